import type { ServiceName } from '../aws-error.js';
import type { Authorizer } from '../service.js';
import { AUTOSCALING_AUTHORIZERS } from './authorize-autoscaling.js';
import { DYNAMODB_AUTHORIZERS } from './authorize-dynamodb.js';
import { EC2_AUTHORIZERS } from './authorize-ec2.js';
import { ELBV2_AUTHORIZERS } from './authorize-elbv2.js';
import { EVENTS_AUTHORIZERS } from './authorize-events.js';
import { ROUTE53_AUTHORIZERS } from './authorize-route53.js';
import { SQS_AUTHORIZERS } from './authorize-sqs.js';
import { S3_AUTHORIZERS, SSM_AUTHORIZERS } from './authorize-ssm-s3.js';
import { CLOUDWATCH_AUTHORIZERS, FIS_AUTHORIZERS } from './authorize-fis-cloudwatch.js';

/**
 * How IAM authorizes every operation the simulated services answer, by service and operation
 * (the gateway refuses to run an operation without one). STS GetCallerIdentity needs no
 * authorization (AWS STS API Reference) and is not here.
 */
export const AUTHORIZERS: Readonly<Record<ServiceName, Readonly<Record<string, Authorizer>>>> = {
  ec2: EC2_AUTHORIZERS,
  autoscaling: AUTOSCALING_AUTHORIZERS,
  route53: ROUTE53_AUTHORIZERS,
  dynamodb: DYNAMODB_AUTHORIZERS,
  sqs: SQS_AUTHORIZERS,
  events: EVENTS_AUTHORIZERS,
  elasticloadbalancing: ELBV2_AUTHORIZERS,
  ssm: SSM_AUTHORIZERS,
  s3: S3_AUTHORIZERS,
  fis: FIS_AUTHORIZERS,
  cloudwatch: CLOUDWATCH_AUTHORIZERS,
};
