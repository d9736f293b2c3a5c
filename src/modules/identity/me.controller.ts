import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from './authenticated.decorator.js';
import { CurrentUser, type AuthenticatedUser } from './current-user.decorator.js';
import { UserDto } from './dto/user.dto.js';

@ApiTags('identity')
@Authenticated()
@Controller('api/v1/me')
export class MeController {
  @Get()
  @ApiOperation({ operationId: 'getMe', summary: 'Who the user token identifies (for the frontend to show who is logged in)' })
  @ApiOkResponse({ type: UserDto })
  me(@CurrentUser() user: AuthenticatedUser): UserDto {
    return { id: user.id };
  }
}
