import type { LaunchTemplate } from '@aws-sdk/client-ec2';
import { TAG, tagsToRecord } from './names.js';

interface ClusterTemplates {
  /** When the describe that filled it was sent. */
  readonly atMs: number;
  readonly byId: Map<string, LaunchTemplate>;
}

/**
 * The cluster's launch templates as this driver knows them: one `DescribeLaunchTemplates` of
 * the whole cluster (its `berth:cluster` tag, largest page), then kept up to date with the
 * driver's own creates and deletes, so that a roll's template-only update
 * (update-template.ts) describes once per roll instead of once per node. It is a hint, and
 * heals itself where AWS disagrees: a group on a template it does not hold, a create that
 * finds the name taken, or an update AWS refuses makes the driver forget it and describe again
 * (or run the full ensureNode, which always describes). Entries older than
 * `templateCacheMaxAgeMs` are not used.
 */
export class TemplateCache {
  readonly #byCluster = new Map<string, ClusterTemplates>();

  /** The node's templates, when the cluster's are known and no older than `maxAgeMs`; else null. */
  nodeTemplates(clusterName: string, nodeId: string, nowMs: number, maxAgeMs: number): LaunchTemplate[] | null {
    const c = this.#byCluster.get(clusterName);
    if (!c || nowMs - c.atMs > maxAgeMs) return null;
    return [...c.byId.values()].filter((t) => tagsToRecord(t.Tags)[TAG.node] === nodeId);
  }

  /** Everything a describe of the cluster's templates returned, sent at `atMs`. */
  filled(clusterName: string, templates: readonly LaunchTemplate[], atMs: number): void {
    this.#byCluster.set(clusterName, { atMs, byId: new Map(templates.filter((t) => t.LaunchTemplateId).map((t) => [t.LaunchTemplateId as string, t])) });
  }

  /** A fresh describe of one node's templates: they replace what was known of that node. */
  nodeDescribed(clusterName: string, nodeId: string, templates: readonly LaunchTemplate[]): void {
    const c = this.#byCluster.get(clusterName);
    if (!c) return;
    for (const [id, t] of c.byId) if (tagsToRecord(t.Tags)[TAG.node] === nodeId) c.byId.delete(id);
    for (const t of templates) if (t.LaunchTemplateId) c.byId.set(t.LaunchTemplateId, t);
  }

  /** The driver created this template. */
  created(clusterName: string, template: LaunchTemplate): void {
    if (template.LaunchTemplateId) this.#byCluster.get(clusterName)?.byId.set(template.LaunchTemplateId, template);
  }

  /** The driver deleted this template (or AWS said it is gone). */
  deleted(clusterName: string, templateId: string): void {
    this.#byCluster.get(clusterName)?.byId.delete(templateId);
  }

  /** AWS disagreed with what is known: describe again next time. */
  forget(clusterName: string): void {
    this.#byCluster.delete(clusterName);
  }
}
