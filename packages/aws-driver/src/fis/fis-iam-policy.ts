import type { IamPolicyDocument, IamStatement } from '../iam-policy.js';
import { TAG } from '../names.js';
import { partitionOf } from '../partition.js';

// IAM for FIS game-days (docs/game-days.md, FIS-8…FIS-10). Resource types and condition keys:
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsfaultinjectionservice.html
// Actions' permissions: https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html
// iam:PassRole to fis.amazonaws.com: https://docs.aws.amazon.com/fis/latest/userguide/getting-started-iam-service-role.html

/** What the FIS policies are scoped to: the account, region, cluster and experiment role. */
export interface FisPolicyOptions {
  readonly region: string;
  readonly accountId: string;
  /** The cluster: templates, experiments, instances and volumes are scoped to its `berth:cluster` tag. */
  readonly clusterName: string;
  /** The experiment role (the caller passes it to FIS). */
  readonly experimentRoleArn: string;
}

const arnBase = (o: { region: string; accountId: string }, service: string): string => `arn:${partitionOf(o.region)}:${service}:${o.region}:${o.accountId}`;

/**
 * What the identity that runs a FIS game-day needs: create templates and start experiments
 * tagged with the cluster (`aws:RequestTag/berth:cluster`), read and stop only the cluster's
 * experiments (`aws:ResourceTag/berth:cluster`), check the stop-condition alarms
 * (`cloudwatch:DescribeAlarms`), and pass the experiment role to FIS only
 * (`iam:PassedToService` = `fis.amazonaws.com`).
 *
 * @example
 * ```ts
 * const policy = fisCallerPolicy({ region: 'eu-west-1', accountId: '123456789012', clusterName: 'kafka', experimentRoleArn: 'arn:aws:iam::123456789012:role/berth-fis' });
 * ```
 */
export function fisCallerPolicy(o: FisPolicyOptions): IamPolicyDocument {
  const fis = arnBase(o, 'fis');
  const onCluster = { StringEquals: { [`aws:ResourceTag/${TAG.cluster}`]: o.clusterName } };
  const tagging = { StringEquals: { [`aws:RequestTag/${TAG.cluster}`]: o.clusterName } };
  const statements: IamStatement[] = [
    { Sid: 'CreateClusterTemplates', Effect: 'Allow', Action: ['fis:CreateExperimentTemplate', 'fis:TagResource'], Resource: [`${fis}:experiment-template/*`, `${fis}:action/*`], Condition: tagging },
    { Sid: 'StartClusterTemplates', Effect: 'Allow', Action: ['fis:StartExperiment', 'fis:GetExperimentTemplate', 'fis:DeleteExperimentTemplate'], Resource: `${fis}:experiment-template/*`, Condition: onCluster },
    { Sid: 'StartTaggedExperiments', Effect: 'Allow', Action: ['fis:StartExperiment', 'fis:TagResource'], Resource: `${fis}:experiment/*`, Condition: tagging },
    { Sid: 'WatchClusterExperiments', Effect: 'Allow', Action: ['fis:GetExperiment', 'fis:StopExperiment'], Resource: `${fis}:experiment/*`, Condition: onCluster },
    { Sid: 'ListExperiments', Effect: 'Allow', Action: ['fis:ListExperiments'], Resource: '*' },
    { Sid: 'CheckStopAlarms', Effect: 'Allow', Action: ['cloudwatch:DescribeAlarms'], Resource: `${arnBase(o, 'cloudwatch')}:alarm:*` },
    { Sid: 'PassExperimentRole', Effect: 'Allow', Action: ['iam:PassRole'], Resource: o.experimentRoleArn, Condition: { StringEquals: { 'iam:PassedToService': 'fis.amazonaws.com' } } },
  ];
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * What the experiment role (FIS acting for you) needs for the actions a template uses, and
 * nothing for those it does not: EC2 actions only on instances tagged with the cluster;
 * network disruption only through network ACLs FIS tags `managedByFIS=true`; API errors only
 * into `ec2` calls of the roles the template targets (`fis:Service`, `fis:Targets`).
 *
 * @example
 * ```ts
 * const input = fisExperimentTemplate(plan, { spec, roleArn });
 * const policy = fisExperimentRolePolicy(Object.values(input.actions).map((a) => a.actionId), { region, accountId, clusterName: spec.name, experimentRoleArn: roleArn, apiRoleArns: [controllerRoleArn] });
 * ```
 */
export function fisExperimentRolePolicy(actionIds: readonly string[], o: FisPolicyOptions & { readonly apiRoleArns?: readonly string[] }): IamPolicyDocument {
  const ec2 = arnBase(o, 'ec2');
  const fis = arnBase(o, 'fis');
  const ids = new Set(actionIds);
  const onCluster = { StringEquals: { [`aws:ResourceTag/${TAG.cluster}`]: o.clusterName } };
  const s: IamStatement[] = [];
  const needsDescribe = ['aws:ec2:terminate-instances', 'aws:ec2:stop-instances', 'aws:ec2:send-spot-instance-interruptions'].some((a) => ids.has(a));
  if (needsDescribe) s.push({ Sid: 'DescribeInstances', Effect: 'Allow', Action: ['ec2:DescribeInstances'], Resource: '*' });
  if (ids.has('aws:ec2:terminate-instances')) s.push({ Sid: 'TerminateClusterInstances', Effect: 'Allow', Action: ['ec2:TerminateInstances'], Resource: `${ec2}:instance/*`, Condition: onCluster });
  if (ids.has('aws:ec2:stop-instances')) s.push({ Sid: 'StopClusterInstances', Effect: 'Allow', Action: ['ec2:StopInstances', 'ec2:StartInstances'], Resource: `${ec2}:instance/*`, Condition: onCluster });
  if (ids.has('aws:ec2:send-spot-instance-interruptions')) s.push({ Sid: 'InterruptClusterSpot', Effect: 'Allow', Action: ['ec2:SendSpotInstanceInterruptions'], Resource: `${ec2}:instance/*`, Condition: onCluster });
  if (ids.has('aws:network:disrupt-connectivity')) {
    const managed = { StringEquals: { 'aws:ResourceTag/managedByFIS': 'true' } };
    s.push(
      { Sid: 'DescribeNetwork', Effect: 'Allow', Action: ['ec2:DescribeManagedPrefixLists', 'ec2:DescribeNetworkAcls', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'ec2:GetManagedPrefixListEntries'], Resource: '*' },
      { Sid: 'CreateFisAcls', Effect: 'Allow', Action: ['ec2:CreateNetworkAcl'], Resource: `${ec2}:network-acl/*`, Condition: { StringEquals: { 'aws:RequestTag/managedByFIS': 'true' } } },
      { Sid: 'CreateFisAclsInVpc', Effect: 'Allow', Action: ['ec2:CreateNetworkAcl'], Resource: `${ec2}:vpc/*` },
      { Sid: 'TagFisAcls', Effect: 'Allow', Action: ['ec2:CreateTags'], Resource: `${ec2}:network-acl/*`, Condition: { StringEquals: { 'ec2:CreateAction': 'CreateNetworkAcl' } } },
      { Sid: 'ChangeFisAcls', Effect: 'Allow', Action: ['ec2:CreateNetworkAclEntry', 'ec2:DeleteNetworkAcl'], Resource: `${ec2}:network-acl/*`, Condition: managed },
      { Sid: 'SwapSubnetAcls', Effect: 'Allow', Action: ['ec2:ReplaceNetworkAclAssociation'], Resource: [`${ec2}:subnet/*`, `${ec2}:network-acl/*`] },
    );
  }
  const api = [ids.has('aws:fis:inject-api-throttle-error') && 'fis:InjectApiThrottleError', ids.has('aws:fis:inject-api-internal-error') && 'fis:InjectApiInternalError'].filter((x): x is string => typeof x === 'string');
  if (api.length > 0) {
    const targets = o.apiRoleArns ?? [];
    s.push({ Sid: 'InjectEc2ApiErrors', Effect: 'Allow', Action: api, Resource: `${fis}:experiment/*`, Condition: { StringEquals: { 'fis:Service': 'ec2' }, ...(targets.length > 0 && { 'ForAllValues:StringEquals': { 'fis:Targets': targets } }) } });
  }
  return { Version: '2012-10-17', Statement: s };
}
