import { ApiProperty } from '@nestjs/swagger';

export class UserDto {
  @ApiProperty({ description: 'The user id: the `sub` of the user token', example: 'alice' })
  readonly id!: string;
}
