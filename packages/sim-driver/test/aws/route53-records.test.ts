import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  InvalidChangeBatch,
  InvalidInput,
  ListResourceRecordSetsCommand,
  NoSuchChange,
  NoSuchHostedZone,
  Route53ServiceException,
  type Change,
  type ChangeAction,
} from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import type { Simulation } from '../../src/index.js';
import { expectAwsError, rulesAccount, until } from './account-fixture.js';

/** The hosted zone `simulatedClusterInput` names: `internal.example.com`. */
const ZONE = 'Z0123456789ABCDEFGHIJ';

const change = (Action: ChangeAction, name: string, values: string[], ttl = 60): Change => ({
  Action,
  ResourceRecordSet: { Name: name, Type: 'A', TTL: ttl, ResourceRecords: values.map((Value) => ({ Value })) },
});

const send = (sim: Simulation, ...changes: Change[]) => sim.aws.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: ZONE, ChangeBatch: { Changes: changes } }));

async function records(sim: Simulation): Promise<[string, string, string[]][]> {
  const r = await sim.aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE }));
  return (r.ResourceRecordSets ?? []).map((x) => [x.Name as string, `${x.TTL}`, (x.ResourceRecords ?? []).map((v) => v.Value as string)]);
}

describe('Route 53 records', () => {
  it('R53-3: CREATE fails when the record exists, DELETE must match values and TTL, UPSERT creates or replaces', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await send(sim, change('CREATE', 'a.internal.example.com', ['10.0.1.10']));
      await expectAwsError(
        send(sim, change('CREATE', 'a.internal.example.com', ['10.0.1.11'])),
        'InvalidChangeBatch',
        400,
        InvalidChangeBatch,
        /^\[Tried to create resource record set \[name='a\.internal\.example\.com\.', type='A'\] but it already exists\]$/,
      );
      await expectAwsError(send(sim, change('DELETE', 'a.internal.example.com', ['10.0.1.10'], 300)), 'InvalidChangeBatch', 400, InvalidChangeBatch, /the values provided do not match the current values/);
      await expectAwsError(send(sim, change('DELETE', 'a.internal.example.com', ['10.0.1.99'])), 'InvalidChangeBatch', 400, InvalidChangeBatch, /the values provided do not match the current values/);
      await expectAwsError(send(sim, change('DELETE', 'b.internal.example.com', ['10.0.1.10'])), 'InvalidChangeBatch', 400, InvalidChangeBatch, /^\[Tried to delete resource record set \[name='b\.internal\.example\.com\.', type='A'\] but it was not found\]$/);
      await send(sim, change('UPSERT', 'A.Internal.Example.com.', ['10.0.1.12', '10.0.2.12'], 30));
      await send(sim, change('UPSERT', 'c.internal.example.com', ['10.0.3.12']));
      expect(await records(sim)).toEqual([
        ['a.internal.example.com.', '30', ['10.0.1.12', '10.0.2.12']],
        ['c.internal.example.com.', '60', ['10.0.3.12']],
      ]);
      // DELETE takes the values in any order, with the exact TTL.
      await send(sim, change('DELETE', 'a.internal.example.com', ['10.0.2.12', '10.0.1.12'], 30));
      expect((await records(sim)).map((r) => r[0])).toEqual(['c.internal.example.com.']);
    });
  });

  it('R53-3: a change batch is atomic: one failing change and nothing of the batch is applied; deleting a record twice in a batch fails', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await send(sim, change('CREATE', 'a.internal.example.com', ['10.0.1.10']));
      await expectAwsError(send(sim, change('UPSERT', 'b.internal.example.com', ['10.0.1.11']), change('CREATE', 'a.internal.example.com', ['10.0.1.12'])), 'InvalidChangeBatch', 400, InvalidChangeBatch);
      await expectAwsError(send(sim, change('DELETE', 'a.internal.example.com', ['10.0.1.10']), change('DELETE', 'a.internal.example.com', ['10.0.1.10'])), 'InvalidChangeBatch', 400, InvalidChangeBatch, /not found/);
      expect(await records(sim)).toEqual([['a.internal.example.com.', '60', ['10.0.1.10']]]);
      // Changes apply in order: a DELETE then a CREATE of the same name replaces it.
      await send(sim, change('DELETE', 'a.internal.example.com', ['10.0.1.10']), change('CREATE', 'a.internal.example.com', ['10.0.1.13']));
      expect(await records(sim)).toEqual([['a.internal.example.com.', '60', ['10.0.1.13']]]);
    });
  });

  it('R53-3: a record outside the hosted zone is refused, and an unknown zone is NoSuchHostedZone', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await expectAwsError(send(sim, change('CREATE', 'a.example.org', ['10.0.1.10'])), 'InvalidChangeBatch', 400, InvalidChangeBatch, /^\[RRSet with DNS name a\.example\.org\. is not permitted in zone internal\.example\.com\.\]$/);
      await expectAwsError(send(sim, change('CREATE', 'notinternal.example.com', ['10.0.1.10'])), 'InvalidChangeBatch', 400, InvalidChangeBatch);
      await expectAwsError(
        sim.aws.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: 'Z9999999999999999999', ChangeBatch: { Changes: [change('CREATE', 'a.internal.example.com', ['10.0.1.10'])] } })),
        'NoSuchHostedZone',
        404,
        NoSuchHostedZone,
      );
      await expectAwsError(sim.aws.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: ZONE, ChangeBatch: { Changes: [] } })), 'InvalidInput', 400, InvalidInput);
    });
  });

  it('R53-4: a change is PENDING until it has propagated, then INSYNC within 60 s; resolvers answer the new value only then; an unknown change is NoSuchChange', async () => {
    const { sim } = rulesAccount({ profile: 'realistic' });
    await sim.run(async () => {
      const r = await send(sim, change('UPSERT', 'demo.internal.example.com', ['10.0.1.10', '10.0.2.10']));
      const id = r.ChangeInfo?.Id as string;
      expect(r.ChangeInfo).toMatchObject({ Id: expect.stringMatching(/^\/change\/C[0-9A-Z]+$/), Status: 'PENDING' });
      expect((await records(sim)).map((x) => x[0])).toEqual(['demo.internal.example.com.']);
      expect(sim.world.resolve(ZONE, 'demo.internal.example.com')).toBeNull();
      const submitted = sim.clock.now();
      await until(sim, async () => (await sim.aws.route53.send(new GetChangeCommand({ Id: id }))).ChangeInfo?.Status === 'INSYNC', 'INSYNC', 1_000);
      expect(sim.clock.now() - submitted).toBeLessThanOrEqual(61_000);
      expect(sim.world.resolve(ZONE, 'demo.internal.example.com')).toEqual(['10.0.1.10', '10.0.2.10']);
      await expectAwsError(sim.aws.route53.send(new GetChangeCommand({ Id: '/change/CNOSUCHCHANGE0000' })), 'NoSuchChange', 404, NoSuchChange);
    });
  });

  it('R53-5: a request holds at most 1,000 ResourceRecord elements, an UPSERT counting twice', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const ips = (n: number, third: number) => Array.from({ length: n }, (_, i) => `10.${third}.${Math.floor(i / 250)}.${(i % 250) + 1}`);
      await send(sim, change('CREATE', 'a.internal.example.com', ips(600, 1)), change('CREATE', 'b.internal.example.com', ips(400, 2)));
      await expectAwsError(send(sim, change('CREATE', 'c.internal.example.com', ips(1001, 3))), 'InvalidChangeBatch', 400, InvalidChangeBatch, /^\[Number of records limit of 1000 exceeded\.\]$/);
      await expectAwsError(send(sim, change('UPSERT', 'c.internal.example.com', ips(501, 3))), 'InvalidChangeBatch', 400, InvalidChangeBatch, /Number of records limit of 1000 exceeded/);
      await send(sim, change('UPSERT', 'c.internal.example.com', ips(500, 3)));
      expect((await records(sim)).map((r) => [r[0], r[2].length])).toEqual([
        ['a.internal.example.com.', 600],
        ['b.internal.example.com.', 400],
        ['c.internal.example.com.', 500],
      ]);
    });
  });

  it('API-7: ListResourceRecordSets returns records in Route 53 order (labels right to left, then type), up to 300 a page, continuing at NextRecordName/NextRecordType', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const names = ['b.internal.example.com', 'a.b.internal.example.com', 'a.internal.example.com', 'z.a.internal.example.com', 'internal.example.com'];
      await send(sim, ...names.map((n, i) => change('CREATE', n, [`10.0.1.${i + 10}`])));
      expect((await records(sim)).map((r) => r[0])).toEqual(['internal.example.com.', 'a.internal.example.com.', 'z.a.internal.example.com.', 'b.internal.example.com.', 'a.b.internal.example.com.']);

      for (let batch = 0; batch < 4; batch++) {
        await send(sim, ...Array.from({ length: 80 }, (_, i) => change('CREATE', `n${String(batch * 80 + i).padStart(3, '0')}.internal.example.com`, ['10.0.1.10'])));
      }
      const all: string[] = [];
      let page = await sim.aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE }));
      expect(page.ResourceRecordSets).toHaveLength(300);
      expect(page).toMatchObject({ IsTruncated: true, MaxItems: 300 });
      all.push(...(page.ResourceRecordSets ?? []).map((r) => r.Name as string));
      page = await sim.aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE, StartRecordName: page.NextRecordName, StartRecordType: page.NextRecordType }));
      expect(page.IsTruncated).toBe(false);
      expect(page.NextRecordName).toBeUndefined();
      all.push(...(page.ResourceRecordSets ?? []).map((r) => r.Name as string));
      expect(all).toHaveLength(325);
      expect(new Set(all).size).toBe(325);

      const small = await sim.aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE, MaxItems: 2 }));
      expect(small).toMatchObject({ IsTruncated: true, NextRecordName: 'z.a.internal.example.com.', NextRecordType: 'A' });
      await expectAwsError(sim.aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE, MaxItems: 301 })), 'InvalidInput', 400, InvalidInput);
    });
  });

  it('R53-2, R53-8: with IAM evaluated, a denied change is AccessDenied (HTTP 403) on the zone ARN, which has no region or account; record conditions apply', async () => {
    const { sim } = rulesAccount({ iam: 'evaluate' });
    sim.account.setControllerPolicy({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['route53:GetChange', 'route53:ListResourceRecordSets'], Resource: '*' },
        {
          Effect: 'Allow',
          Action: 'route53:ChangeResourceRecordSets',
          Resource: `arn:aws:route53:::hostedzone/${ZONE}`,
          Condition: { 'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsActions': ['UPSERT'], 'route53:ChangeResourceRecordSetsRecordTypes': ['A'] } },
        },
      ],
    });
    await sim.run(async () => {
      await send(sim, change('UPSERT', 'a.internal.example.com', ['10.0.1.10']));
      const e = await expectAwsError(
        send(sim, change('DELETE', 'a.internal.example.com', ['10.0.1.10'])),
        'AccessDenied',
        403,
        Route53ServiceException,
        new RegExp(`^User: arn:aws:sts::123456789012:assumed-role/berth-controller/berth is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/${ZONE} because no identity-based policy allows the route53:ChangeResourceRecordSets action`),
      );
      expect((e as { $fault?: string }).$fault).toBe('client');
      expect(await records(sim)).toEqual([['a.internal.example.com.', '60', ['10.0.1.10']]]);
    });
  });
});
