import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const CIRCUIT = ['closed', 'open', 'half_open'];

export class ConsentRulesView {
  @ApiProperty({ type: 'integer', example: 90, description: 'Longest consent validity the bank accepts, in days after today (UTC)' }) maxValidityDays!: number;
  @ApiProperty({ type: 'integer', example: 4, description: 'Highest frequencyPerDay (unattended uses per 24 h) the bank accepts' }) maxFrequencyPerDay!: number;
  @ApiProperty({ enum: ['per_call', 'per_resource'], description: 'What the bank counts as one use of a consent' }) budgetCounting!: string;
}

export class AspspHealthView {
  @ApiProperty({
    enum: ['available', 'degraded', 'unavailable'],
    description: 'unavailable: calls to the bank are paused (a circuit is open); degraded: being tried again',
  })
  status!: string;
  @ApiProperty({ enum: CIRCUIT, description: "The circuit of the bank's login server (token endpoint), on this replica" }) login!: string;
  @ApiProperty({ enum: CIRCUIT, description: "The circuit of the bank's API, on this replica" }) api!: string;
}

/** A configured bank as the frontend's bank list shows it. */
export class AspspView {
  @ApiProperty({ example: 'flowe', pattern: '^[a-z][a-z0-9-]*$', description: 'The aspspId to connect with' }) id!: string;
  @ApiProperty({ example: 'Flowe' }) name!: string;
  @ApiProperty({ enum: ['ais', 'pis'], isArray: true, description: 'The services a connection to this bank can have' }) services!: string[];
  @ApiPropertyOptional({ example: 'IT', description: 'ISO 3166-1 alpha-2' }) country?: string;
  @ApiPropertyOptional({ example: 'SBXFIT21' }) bic?: string;
  @ApiPropertyOptional({ example: '/aspsps/flowe/logo', description: 'The bank logo, served by this service without authentication (usable in <img src>)' })
  logoUrl?: string;
  @ApiProperty({ type: ConsentRulesView }) consentRules!: ConsentRulesView;
  @ApiPropertyOptional({ type: 'integer', example: 90, description: 'Days after a bank login when the PSU must log in again' }) reloginAfterDays?: number;
  @ApiProperty({ type: AspspHealthView }) health!: AspspHealthView;
}

export class AspspListView {
  @ApiProperty({ type: [AspspView] }) aspsps!: AspspView[];
}
