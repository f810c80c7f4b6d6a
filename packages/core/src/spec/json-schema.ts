import { z } from 'zod';
import { AWS_REGIONS } from './aws-regions.js';
import { clusterInputSchema } from './schema.js';
import { USER_TAGS_MAX } from './tag-limits.js';

/**
 * The JSON Schema (draft 2020-12) of a cluster spec as `defineCluster` accepts it, generated
 * from the zod schema with its field descriptions and defaults: for editors and for users who
 * write specs in JSON or YAML. It checks shapes only; the cross-field rules (IPs in subnets,
 * AZs in the region, volume limits...) are `defineCluster`'s.
 *
 * `pnpm schema` writes it to schema/cluster-spec.schema.json; a test keeps that file equal to
 * this output.
 *
 * @example
 * ```ts
 * writeFileSync('cluster-spec.schema.json', JSON.stringify(clusterSpecJsonSchema(), null, 2));
 * ```
 */
export function clusterSpecJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(clusterInputSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'throw' }) as Record<string, unknown>;
  // Two rules the zod shape leaves to validate-cluster.ts but a JSON Schema can say, so that
  // editors complete Region codes and flag a tag too many.
  const properties = schema.properties as Record<string, Record<string, unknown>>;
  if (properties.region) properties.region.enum = Object.keys(AWS_REGIONS);
  if (properties.tags) properties.tags.maxProperties = USER_TAGS_MAX;
  return schema;
}
