/**
 * The AWS Regions a spec may name: every commercial Region, the two China Regions and the two
 * AWS GovCloud (US) Regions, by code, with AWS's name and partition (docs/aws-behaviour.md,
 * REGION-1). Opt-in Regions are listed too: whether the account has enabled one is the
 * preflight's business, not the spec's.
 *
 * When AWS opens a Region, add it here (this is the only list).
 *
 * Sources: https://docs.aws.amazon.com/security-ir/latest/APIReference/API_ImpactedAwsRegion.html
 * (the commercial and China codes), https://docs.aws.amazon.com/r53recovery/latest/dg/aws-regions-rs.html
 * (names, GovCloud).
 */
export const AWS_REGIONS: Readonly<Record<string, { readonly name: string; readonly partition: AwsPartition }>> = Object.freeze({
  'us-east-1': { name: 'US East (N. Virginia)', partition: 'aws' },
  'us-east-2': { name: 'US East (Ohio)', partition: 'aws' },
  'us-west-1': { name: 'US West (N. California)', partition: 'aws' },
  'us-west-2': { name: 'US West (Oregon)', partition: 'aws' },
  'af-south-1': { name: 'Africa (Cape Town)', partition: 'aws' },
  'ap-east-1': { name: 'Asia Pacific (Hong Kong)', partition: 'aws' },
  'ap-east-2': { name: 'Asia Pacific (Taipei)', partition: 'aws' },
  'ap-south-1': { name: 'Asia Pacific (Mumbai)', partition: 'aws' },
  'ap-south-2': { name: 'Asia Pacific (Hyderabad)', partition: 'aws' },
  'ap-southeast-1': { name: 'Asia Pacific (Singapore)', partition: 'aws' },
  'ap-southeast-2': { name: 'Asia Pacific (Sydney)', partition: 'aws' },
  'ap-southeast-3': { name: 'Asia Pacific (Jakarta)', partition: 'aws' },
  'ap-southeast-4': { name: 'Asia Pacific (Melbourne)', partition: 'aws' },
  'ap-southeast-5': { name: 'Asia Pacific (Malaysia)', partition: 'aws' },
  'ap-southeast-6': { name: 'Asia Pacific (New Zealand)', partition: 'aws' },
  'ap-southeast-7': { name: 'Asia Pacific (Thailand)', partition: 'aws' },
  'ap-northeast-1': { name: 'Asia Pacific (Tokyo)', partition: 'aws' },
  'ap-northeast-2': { name: 'Asia Pacific (Seoul)', partition: 'aws' },
  'ap-northeast-3': { name: 'Asia Pacific (Osaka)', partition: 'aws' },
  'ca-central-1': { name: 'Canada (Central)', partition: 'aws' },
  'ca-west-1': { name: 'Canada West (Calgary)', partition: 'aws' },
  'eu-central-1': { name: 'Europe (Frankfurt)', partition: 'aws' },
  'eu-central-2': { name: 'Europe (Zurich)', partition: 'aws' },
  'eu-west-1': { name: 'Europe (Ireland)', partition: 'aws' },
  'eu-west-2': { name: 'Europe (London)', partition: 'aws' },
  'eu-west-3': { name: 'Europe (Paris)', partition: 'aws' },
  'eu-south-1': { name: 'Europe (Milan)', partition: 'aws' },
  'eu-south-2': { name: 'Europe (Spain)', partition: 'aws' },
  'eu-north-1': { name: 'Europe (Stockholm)', partition: 'aws' },
  'il-central-1': { name: 'Israel (Tel Aviv)', partition: 'aws' },
  'me-south-1': { name: 'Middle East (Bahrain)', partition: 'aws' },
  'me-central-1': { name: 'Middle East (UAE)', partition: 'aws' },
  'mx-central-1': { name: 'Mexico (Central)', partition: 'aws' },
  'sa-east-1': { name: 'South America (São Paulo)', partition: 'aws' },
  'cn-north-1': { name: 'China (Beijing)', partition: 'aws-cn' },
  'cn-northwest-1': { name: 'China (Ningxia)', partition: 'aws-cn' },
  'us-gov-east-1': { name: 'AWS GovCloud (US-East)', partition: 'aws-us-gov' },
  'us-gov-west-1': { name: 'AWS GovCloud (US-West)', partition: 'aws-us-gov' },
});

/** The ARN partition of a Region: `aws`, `aws-cn` (China) or `aws-us-gov` (GovCloud). */
export type AwsPartition = 'aws' | 'aws-cn' | 'aws-us-gov';

/** The partition of a known Region, or null for a code not in {@link AWS_REGIONS}. */
export function regionPartition(region: string): AwsPartition | null {
  return Object.hasOwn(AWS_REGIONS, region) ? (AWS_REGIONS[region]?.partition ?? null) : null;
}
