import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class LivenessView {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

class IndicatorStatusView {
  @ApiProperty({ enum: ['up', 'down'] }) status!: 'up' | 'down';
}

class IndicatorsView {
  @ApiPropertyOptional({ type: IndicatorStatusView }) database?: IndicatorStatusView;
}

/** @nestjs/terminus's health check result; 503 (problem+json) when a check fails. */
export class ReadinessView {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
  @ApiProperty({ type: IndicatorsView }) info!: IndicatorsView;
  @ApiProperty({ type: IndicatorsView }) error!: IndicatorsView;
  @ApiProperty({ type: IndicatorsView }) details!: IndicatorsView;
}
