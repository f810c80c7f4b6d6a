// The simulated `aws` command end to end, against a fake AWS that honours its inputs.
// Expected texts come from the AWS CLI source (awscli/formatter.py, text.py, errorhandler.py,
// argparser.py, botocore paginate.py/validate.py); the error texts were also compared with the
// output of AWS CLI v2.36.7 (current) and v2.9.19 (before-2.34) for the same command lines.
import { beforeEach, describe, expect, it } from 'vitest';
import { handleCliRequest, runAwsCli } from '../../src/cli/index.js';
import type { AwsCliResult } from '../../src/cli/index.js';
import { AwsServiceError, FakeAws } from './fake-aws.js';

const USAGE =
  'usage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]\nTo see help text, you can run:\n\n' +
  '  aws help\n  aws <command> help\n  aws <command> <subcommand> help\n';

let aws: FakeAws;
const run = (line: string[], env: Record<string, string> = {}): Promise<AwsCliResult> => runAwsCli(line, { env, invoke: aws.invoke });
const text = (...line: string[]) => run(['--region', 'us-east-1', '--output', 'text', ...line]);

beforeEach(() => {
  aws = new FakeAws();
  aws.addVolume({ VolumeId: 'vol-1', Tags: [{ Key: 'berth:cluster', Value: 'kafka' }, { Key: 'berth:node', Value: 'n1' }] });
  aws.addVolume({ VolumeId: 'vol-2', Tags: [{ Key: 'berth:cluster', Value: 'kafka' }, { Key: 'berth:node', Value: 'n2' }], State: 'deleting' });
  aws.addVolume({ VolumeId: 'vol-3', Tags: [{ Key: 'berth:cluster', Value: 'other' }, { Key: 'berth:node', Value: 'n1' }] });
  aws.asgInstances.push({ InstanceId: 'i-1', AutoScalingGroupName: 'kafka-n1', LifecycleState: 'Pending:Wait', AvailabilityZone: 'us-east-1a', HealthStatus: 'Healthy' });
  aws.hooks.push(
    { AutoScalingGroupName: 'kafka-n1', LifecycleHookName: 'berth-terminate', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 300 },
    { AutoScalingGroupName: 'kafka-n1', LifecycleHookName: 'berth-launch', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 300 },
  );
});

describe('the queries node-bootstrap.sh runs', () => {
  it('finds the volume by tag filters, excluding deleting/deleted ones', async () => {
    const r = await text(
      'ec2', 'describe-volumes', '--filters', 'Name=tag:berth:cluster,Values=kafka', 'Name=tag:berth:node,Values=n1',
      '--query', "Volumes[?State!='deleting' && State!='deleted'].VolumeId",
    );
    expect(r).toEqual({ stdout: 'vol-1\n', stderr: '', exitCode: 0 });
    expect(aws.calls[0]?.input).toEqual({
      Filters: [
        { Name: 'tag:berth:cluster', Values: ['kafka'] },
        { Name: 'tag:berth:node', Values: ['n1'] },
      ],
    });
  });

  it('prints two ids on one line when two volumes match (the ambiguity the script checks)', async () => {
    aws.addVolume({ VolumeId: 'vol-4', Tags: [{ Key: 'berth:cluster', Value: 'kafka' }, { Key: 'berth:node', Value: 'n1' }] });
    const r = await text('ec2', 'describe-volumes', '--filters', 'Name=tag:berth:node,Values=n1', 'Name=tag:berth:cluster,Values=kafka', '--query', 'Volumes[].VolumeId');
    expect(r.stdout).toBe('vol-1\tvol-4\n');
  });

  it('prints None for an unattached volume, tab-separated', async () => {
    const r = await text('ec2', 'describe-volumes', '--volume-ids', 'vol-1', '--query', 'Volumes[0].[State,AvailabilityZone,Attachments[0].InstanceId,Attachments[0].State]');
    expect(r).toEqual({ stdout: 'available\tus-east-1a\tNone\tNone\n', stderr: '', exitCode: 0 });
    expect(aws.calls[0]?.input).toEqual({ VolumeIds: ['vol-1'] });
  });

  it('attaches and then sees the attachment', async () => {
    const attach = await text('ec2', 'attach-volume', '--volume-id', 'vol-1', '--instance-id', 'i-1', '--device', '/dev/sdf');
    // One line: the output's scalars in key order (AttachTime, Device, InstanceId, State, VolumeId).
    expect(attach.stdout).toBe('2024-01-01T00:00:05.250000+00:00\t/dev/sdf\ti-1\tattaching\tvol-1\n');
    const r = await text('ec2', 'describe-volumes', '--volume-ids', 'vol-1', '--query', 'Volumes[0].[State,AvailabilityZone,Attachments[0].InstanceId,Attachments[0].State]');
    expect(r.stdout).toBe('in-use\tus-east-1a\ti-1\tattaching\n');
  });

  it('reads the group, the launch hook and the lifecycle state', async () => {
    expect((await text('autoscaling', 'describe-auto-scaling-instances', '--instance-ids', 'i-1', '--query', 'AutoScalingInstances[0].AutoScalingGroupName')).stdout).toBe('kafka-n1\n');
    expect((await text('autoscaling', 'describe-auto-scaling-instances', '--instance-ids', 'i-9', '--query', 'AutoScalingInstances[0].AutoScalingGroupName')).stdout).toBe('None\n');
    const hook = await text(
      'autoscaling', 'describe-lifecycle-hooks', '--auto-scaling-group-name', 'kafka-n1',
      '--query', "LifecycleHooks[?LifecycleTransition=='autoscaling:EC2_INSTANCE_LAUNCHING'].LifecycleHookName | [0]",
    );
    expect(hook.stdout).toBe('berth-launch\n');
    const done = await text('autoscaling', 'complete-lifecycle-action', '--auto-scaling-group-name', 'kafka-n1', '--lifecycle-hook-name', 'berth-launch', '--instance-id', 'i-1', '--lifecycle-action-result', 'CONTINUE');
    expect(done).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    expect((await text('autoscaling', 'describe-auto-scaling-instances', '--instance-ids', 'i-1', '--query', 'AutoScalingInstances[0].LifecycleState')).stdout).toBe('InService\n');
  });

  it('reports a second complete-lifecycle-action as the CLI does (254, message on stderr)', async () => {
    const args = ['autoscaling', 'complete-lifecycle-action', '--auto-scaling-group-name', 'kafka-n1', '--lifecycle-hook-name', 'berth-launch', '--instance-id', 'i-1', '--lifecycle-action-result', 'CONTINUE'];
    await text(...args);
    const again = await text(...args);
    expect(again).toEqual({
      stdout: '',
      stderr: '\naws: [ERROR]: An error occurred (ValidationError) when calling the CompleteLifecycleAction operation: No active Lifecycle Action found with instance ID i-1\n',
      exitCode: 254,
    });
  });

  it('tags with shorthand and records the tag', async () => {
    const r = await text('ec2', 'create-tags', '--resources', 'i-1', '--tags', 'Key=berth:phase,Value=failed:launching:lifecycle-lookup');
    expect(r).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    expect(aws.instanceTags.get('i-1')?.get('berth:phase')).toBe('failed:launching:lifecycle-lookup');
  });
});

describe('parameters', () => {
  it('takes JSON for a list of structures, and several words for a list', async () => {
    const r = await run(['--region', 'us-east-1', 'ec2', 'describe-volumes', '--filters', '[{"Name":"tag:berth:node","Values":["n1"]}]', '--volume-ids', 'vol-1', 'vol-3', '--query', 'Volumes[].VolumeId']);
    expect(r.stdout).toBe('[\n    "vol-1",\n    "vol-3"\n]\n');
    expect(aws.calls[0]?.input).toEqual({ VolumeIds: ['vol-1', 'vol-3'], Filters: [{ Name: 'tag:berth:node', Values: ['n1'] }] });
  });

  it('accepts an unambiguous prefix and --opt=value, --dry-run and --no-dry-run (last wins)', async () => {
    await run(['--region=us-east-1', 'ec2', 'describe-volumes', '--volume-id=vol-1', '--dry-run', '--no-dry-run']);
    expect(aws.calls[0]?.input).toEqual({ VolumeIds: ['vol-1'], DryRun: false });
  });

  it('merges --cli-input-json under the command-line values', async () => {
    await run(['--region', 'us-east-1', 'ec2', 'describe-volumes', '--volume-ids', 'vol-1', '--cli-input-json', '{"VolumeIds": ["vol-3"], "DryRun": true}']);
    expect(aws.calls[0]?.input).toEqual({ VolumeIds: ['vol-1'], DryRun: true });
  });

  it('rejects unknown options (252) with the usage text', async () => {
    const r = await run(['--region', 'us-east-1', 'ec2', 'describe-volumes', '--foo', 'bar']);
    expect(r).toEqual({ stdout: '', stderr: `\n${USAGE}\n\naws: [ERROR]: Unknown options: --foo, bar\n`, exitCode: 252 });
    expect(aws.calls).toEqual([]);
  });

  it('rejects missing required options (252)', async () => {
    const r = await run(['--region', 'us-east-1', 'ec2', 'attach-volume', '--volume-id', 'x']);
    expect(r.exitCode).toBe(252);
    expect(r.stderr).toBe(`\naws: [ERROR]: An error occurred (ParamValidation): the following arguments are required: --device, --instance-id\n\n${USAGE}`);
  });

  it('rejects bad shorthand (252) with the parser position', async () => {
    const r = await run(['--region', 'us-east-1', 'ec2', 'describe-volumes', '--filters', 'Name=x,Values=[a,b']);
    expect(r).toEqual({
      stdout: '',
      stderr:
        "\naws: [ERROR]: An error occurred (ParamValidation): Error parsing parameter '--filters': Expected: ',', received: 'EOF' for input:\n" +
        ' Name=x,Values=[a,b\n                  ^\n',
      exitCode: 252,
    });
  });

  it('validates against the model like botocore (252), before any call', async () => {
    const r = await run(['--region', 'us-east-1', 'ec2', 'describe-volumes', '--filters', 'Name=x,Valuez=a']);
    expect(r.stderr).toBe('\naws: [ERROR]: An error occurred (ParamValidation): Parameter validation failed:\nUnknown parameter in Filters[0]: "Valuez", must be one of: Name, Values\n');
    expect(r.exitCode).toBe(252);
    const typed = await run(['--region', 'us-east-1', 'ec2', 'describe-volumes', '--filters', '[{"Name": "x", "Values": "a"}]']);
    expect(typed.stderr).toContain("Invalid type for parameter Filters[0].Values, value: a, type: <class 'str'>, valid types: <class 'list'>, <class 'tuple'>");
    const empty = await run(['--region', 'us-east-1', 'autoscaling', 'describe-lifecycle-hooks', '--auto-scaling-group-name', '']);
    expect(empty.stderr).toContain('Invalid length for parameter AutoScalingGroupName, value: 0, valid min length: 1');
    expect(aws.calls).toEqual([]);
  });

  it('fails like Python int() on a bad integer member (255) and argparse on a bad --max-items (252)', async () => {
    expect(await run(['--region', 'us-east-1', 'ec2', 'describe-volumes', '--max-results', 'abc'])).toEqual({
      stdout: '',
      stderr: "\naws: [ERROR]: invalid literal for int() with base 10: 'abc'\n",
      exitCode: 255,
    });
    const r = await run(['--region', 'us-east-1', 'ec2', 'describe-volumes', '--max-items', 'abc']);
    expect(r.exitCode).toBe(252);
    expect(r.stderr).toContain("argument --max-items: invalid int value: 'abc'");
  });
});

describe('pagination', () => {
  beforeEach(() => {
    aws.pageSizeCap = 2;
    for (let i = 4; i <= 6; i++) aws.addVolume({ VolumeId: `vol-${i}` });
  });

  it('asks for pages of 1000 when describe-volumes has no filters, and follows NextToken to the end', async () => {
    const r = await run(['--region', 'us-east-1', 'ec2', 'describe-volumes', '--query', 'Volumes[].VolumeId', '--output', 'json']);
    expect(JSON.parse(r.stdout)).toEqual(['vol-1', 'vol-2', 'vol-3', 'vol-4', 'vol-5', 'vol-6']);
    expect(aws.calls.map((c) => c.input)).toEqual([{ MaxResults: 1000 }, { MaxResults: 1000, NextToken: 'page-2' }, { MaxResults: 1000, NextToken: 'page-4' }]);
  });

  it('merges the result key of all pages before --query in JSON output, and drops the service token', async () => {
    const r = await run(['--region', 'us-east-1', 'ec2', 'describe-volumes', '--filters', 'Name=status,Values=available', '--query', '[length(Volumes), keys(@)]']);
    expect(r.stdout).toBe('[\n    5,\n    [\n        "Volumes"\n    ]\n]\n');
    expect(aws.calls).toHaveLength(3);
  });

  it('applies --query to each page in text output, as the CLI does', async () => {
    const r = await text('ec2', 'describe-volumes', '--filters', 'Name=status,Values=available', '--query', 'Volumes[0].VolumeId');
    expect(r.stdout).toBe('vol-1\nvol-4\nvol-6\n');
  });

  it('cuts at --max-items with a resume token, and --starting-token resumes', async () => {
    const first = await run(['--region', 'us-east-1', 'ec2', 'describe-volumes', '--max-items', '3', '--query', '[Volumes[].VolumeId, NextToken]']);
    const [ids, token] = JSON.parse(first.stdout) as [string[], string];
    expect(ids).toEqual(['vol-1', 'vol-2', 'vol-3']);
    expect(Buffer.from(token, 'base64').toString()).toBe('{"NextToken": "page-2", "boto_truncate_amount": 1}');
    const rest = await run(['--region', 'us-east-1', 'ec2', 'describe-volumes', '--starting-token', token, '--query', 'Volumes[].VolumeId', '--output', 'text']);
    expect(rest.stdout).toBe('vol-4\nvol-5\tvol-6\n');
  });

  it('prints the resume token last in text output', async () => {
    const r = await text('ec2', 'describe-volumes', '--max-items', '2');
    expect(r.stdout.split('\n').at(-2)).toBe(`NEXTTOKEN\t${Buffer.from('{"NextToken": "page-2"}').toString('base64')}`);
  });

  it('makes one call with --no-paginate, printing the service token', async () => {
    const r = await run(['--region', 'us-east-1', '--no-paginate', 'ec2', 'describe-volumes', '--max-results', '2', '--query', '{ids: Volumes[].VolumeId, next: NextToken}']);
    expect(JSON.parse(r.stdout)).toEqual({ ids: ['vol-1', 'vol-2'], next: 'page-2' });
    expect(aws.calls).toHaveLength(1);
  });
});

describe('errors and exit codes', () => {
  it('service error: 254 and the CLI message', async () => {
    const r = await text('ec2', 'attach-volume', '--volume-id', 'vol-nope', '--instance-id', 'i-1', '--device', '/dev/sdf');
    expect(r).toEqual({
      stdout: '',
      stderr: "\naws: [ERROR]: An error occurred (InvalidVolume.NotFound) when calling the AttachVolume operation: The volume 'vol-nope' does not exist.\n",
      exitCode: 254,
    });
  });

  it('writes the pre-2.34 texts when asked', async () => {
    const r = await runAwsCli(['--region', 'us-east-1', 'ec2', 'attach-volume', '--volume-id', 'vol-1', '--instance-id', 'i-1', '--device', '/dev/sdf'], {
      invoke: aws.invoke,
      errorMessages: 'before-2.34',
    });
    expect(r.exitCode).toBe(0);
    const again = await runAwsCli(['--region', 'us-east-1', 'ec2', 'attach-volume', '--volume-id', 'vol-1', '--instance-id', 'i-1', '--device', '/dev/sdf'], {
      invoke: aws.invoke,
      errorMessages: 'before-2.34',
    });
    expect(again).toEqual({ stdout: '', stderr: '\nAn error occurred (VolumeInUse) when calling the AttachVolume operation: vol-1 is already attached to an instance\n', exitCode: 254 });
    const noRegion = await runAwsCli(['ec2', 'describe-volumes'], { invoke: aws.invoke, errorMessages: 'before-2.34' });
    expect(noRegion).toEqual({ stdout: '', stderr: '\nYou must specify a region. You can also configure your region by running "aws configure".\n', exitCode: 253 });
    const missing = await runAwsCli(['--region', 'r', 'ec2', 'attach-volume'], { invoke: aws.invoke, errorMessages: 'before-2.34' });
    expect(missing.stderr).toBe(`\n${USAGE}\naws: error: the following arguments are required: --device, --instance-id, --volume-id\n\n`);
  });

  it('retries throttling (3 attempts by default) and then names the retries', async () => {
    aws.failNext = { count: 5, error: () => new AwsServiceError('RequestLimitExceeded', 'Request limit exceeded.', 503) };
    const r = await text('ec2', 'describe-volumes', '--volume-ids', 'vol-1');
    expect(r.stderr).toBe('\naws: [ERROR]: An error occurred (RequestLimitExceeded) when calling the DescribeVolumes operation (reached max retries: 2): Request limit exceeded.\n');
    expect(r.exitCode).toBe(254);
    expect(aws.calls).toHaveLength(3);
  });

  it('a retried throttle that clears succeeds; AWS_MAX_ATTEMPTS=1 does not retry', async () => {
    aws.failNext = { count: 1, error: () => new AwsServiceError('Throttling', 'Rate exceeded', 400) };
    expect((await text('ec2', 'describe-volumes', '--volume-ids', 'vol-1', '--query', 'Volumes[0].VolumeId')).stdout).toBe('vol-1\n');
    aws.failNext = { count: 1, error: () => new AwsServiceError('Throttling', 'Rate exceeded', 400) };
    const once = await run(['--region', 'us-east-1', 'ec2', 'describe-volumes', '--volume-ids', 'vol-1'], { AWS_MAX_ATTEMPTS: '1' });
    expect(once.stderr).toBe('\naws: [ERROR]: An error occurred (Throttling) when calling the DescribeVolumes operation (reached max retries: 0): Rate exceeded\n');
  });

  it('maps SDK v3 exception names to wire codes (autoscaling ResourceContentionFault)', async () => {
    aws.failNext = { count: 3, error: () => new AwsServiceError('ResourceContentionFault', 'You already have a pending update.', 500) };
    const r = await text('autoscaling', 'describe-auto-scaling-instances');
    expect(r.stderr).toContain('An error occurred (ResourceContention) when calling the DescribeAutoScalingInstances operation (reached max retries: 2)');
  });

  it('connection failure: retried, then 255 and the endpoint URL', async () => {
    aws.failNext = { count: 3, error: () => new TypeError('socket hang up') };
    const r = await text('ec2', 'describe-volumes', '--volume-ids', 'vol-1');
    expect(r).toEqual({ stdout: '', stderr: '\naws: [ERROR]: Could not connect to the endpoint URL: "https://ec2.us-east-1.amazonaws.com/"\n', exitCode: 255 });
    aws.failNext = { count: 3, error: () => new Error('refused') };
    const custom = await run(['--region', 'us-east-1', '--endpoint-url', 'http://127.0.0.1:5999', 'sts', 'get-caller-identity']);
    expect(custom.stderr).toBe('\naws: [ERROR]: Could not connect to the endpoint URL: "http://127.0.0.1:5999/"\n');
  });

  it('no region: 253; region from AWS_REGION, then AWS_DEFAULT_REGION', async () => {
    expect(await run(['ec2', 'describe-volumes'])).toEqual({
      stdout: '',
      stderr: '\naws: [ERROR]: An error occurred (NoRegion): You must specify a region. You can also configure your region by running "aws configure".\n',
      exitCode: 253,
    });
    await run(['sts', 'get-caller-identity'], { AWS_DEFAULT_REGION: 'eu-west-1' });
    await run(['sts', 'get-caller-identity'], { AWS_DEFAULT_REGION: 'eu-west-1', AWS_REGION: 'us-west-2' });
    await run(['--region', 'ap-south-1', 'sts', 'get-caller-identity'], { AWS_REGION: 'us-west-2' });
    expect(aws.calls.map((c) => c.region)).toEqual(['eu-west-1', 'us-west-2', 'ap-south-1']);
  });

  it('unsupported service or command: 252, naming it and the supported commands', async () => {
    const r = await run(['--region', 'us-east-1', 'ec2', 'describe-snapshots']);
    expect(r.exitCode).toBe(252);
    expect(r.stderr).toContain("argument operation: Found invalid choice 'describe-snapshots'");
    expect(r.stderr).toContain('`aws ec2 describe-snapshots` is not supported by the simulated AWS CLI');
    expect(r.stderr).toContain('ec2: describe-volumes, describe-instances,');
    const typo = await run(['--region', 'us-east-1', 'ec2', 'describe-volume']);
    expect(typo.stderr).toContain("Found invalid choice 'describe-volume'\n\nMaybe you meant:\n\n  * describe-volumes\n");
    const s3 = await run(['--region', 'us-east-1', 's3', 'ls']);
    expect(s3.exitCode).toBe(252);
    expect(s3.stderr).toContain('`aws s3` is not supported by the simulated AWS CLI');
    expect(aws.calls).toEqual([]);
  });

  it('table output is refused before calling; a bad --query is a 252', async () => {
    const table = await run(['--region', 'us-east-1', '--output', 'table', 'sts', 'get-caller-identity']);
    expect(table.exitCode).toBe(252);
    expect(table.stderr).toContain('--output table is not supported by the simulated AWS CLI');
    const q = await run(['--region', 'us-east-1', 'ec2', 'describe-volumes', '--query', 'Volumes[?']);
    expect(q).toEqual({
      stdout: '',
      stderr: '\naws: [ERROR]: An error occurred (ParamValidation): Bad value for --query Volumes[?: Invalid jmespath expression: Incomplete expression:\n"Volumes[?"\n          ^\n',
      exitCode: 252,
    });
    expect(aws.calls).toEqual([]);
  });
});

describe('output', () => {
  it('JSON by default (AWS_DEFAULT_OUTPUT respected), 4-space indent, key order kept, $metadata dropped', async () => {
    const json = await run(['--region', 'us-east-1', 'sts', 'get-caller-identity']);
    expect(json.stdout).toBe('{\n    "UserId": "AIDAEXAMPLE",\n    "Account": "123456789012",\n    "Arn": "arn:aws:iam::123456789012:user/sim"\n}\n');
    const viaEnv = await run(['--region', 'us-east-1', 'sts', 'get-caller-identity'], { AWS_DEFAULT_OUTPUT: 'text' });
    expect(viaEnv.stdout).toBe('123456789012\tarn:aws:iam::123456789012:user/sim\tAIDAEXAMPLE\n');
  });

  it('timestamps are ISO 8601 before --query sees them', async () => {
    const r = await text('ec2', 'describe-volumes', '--volume-ids', 'vol-1', '--query', "Volumes[?CreateTime=='2024-01-01T00:00:00+00:00'].CreateTime");
    expect(r.stdout).toBe('2024-01-01T00:00:00+00:00\n');
  });
});

describe('handleCliRequest', () => {
  it('runs the command with only the CLI environment variables', async () => {
    const r = await handleCliRequest({ argv: ['sts', 'get-caller-identity', '--query', 'Account'], env: { AWS_DEFAULT_REGION: 'us-east-2', AWS_DEFAULT_OUTPUT: 'text', HOME: '/x' } }, aws.invoke);
    expect(r).toEqual({ stdout: '123456789012\n', stderr: '', exitCode: 0 });
    expect(aws.calls[0]?.region).toBe('us-east-2');
  });

  it('answers a malformed body with 255 and what was expected', async () => {
    const r = await handleCliRequest({ argv: 'sts get-caller-identity' }, aws.invoke);
    expect(r.exitCode).toBe(255);
    expect(r.stderr).toContain('expected {"argv": string[]');
  });
});
