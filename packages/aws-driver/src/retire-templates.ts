import { DeleteLaunchTemplateCommand, type LaunchTemplate } from '@aws-sdk/client-ec2';
import type { ResourceChange } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { isAwsCode } from './map-aws-error.js';
import { TAG, tagsToRecord } from './names.js';

/** How many templates a node keeps: the one its group is on and two it may go back to. */
export const TEMPLATES_KEPT = 3;

/**
 * The node's templates that may go once its group points at `newId`. Kept, up to
 * {@link TEMPLATES_KEPT}, in this order: the new one; the one the group used until now
 * (`previousId`: its instance may still run from it, and a failed replacement goes back to it
 * with restoreLaunchTemplate); then the group's history before that, read from each template's
 * `berth:previous-template` tag; then, for templates made before that tag existed, the newest.
 * After a roll to C while the group was on a failed B, that keeps A, the last revision that
 * worked; a re-run of ensureNode (the group already on the new one) keeps the same three and
 * deletes nothing. The regional quota is 5,000 templates; groups, at 500, run out first.
 */
export function templatesToRetire(templates: readonly LaunchTemplate[], newId: string, previousId: string | null): LaunchTemplate[] {
  const byId = new Map(templates.filter((t) => t.LaunchTemplateId).map((t) => [t.LaunchTemplateId as string, t]));
  const kept: string[] = [];
  const keep = (id: string | null | undefined): boolean => {
    if (!id || kept.includes(id) || kept.length >= TEMPLATES_KEPT || (id !== newId && !byId.has(id))) return false;
    kept.push(id);
    return true;
  };
  keep(newId);
  keep(previousId);
  // Back through the history from the oldest kept so far.
  for (let cur = kept[kept.length - 1]; cur !== undefined; ) {
    const before = tagsToRecord(byId.get(cur)?.Tags)[TAG.templatePrevious];
    cur = keep(before) ? before : undefined;
  }
  const newestFirst = [...byId.values()].sort((a, b) => (b.CreateTime?.getTime() ?? 0) - (a.CreateTime?.getTime() ?? 0));
  for (const t of newestFirst) keep(t.LaunchTemplateId);
  return [...byId.values()].filter((t) => !kept.includes(t.LaunchTemplateId as string));
}

/**
 * Deletes what {@link templatesToRetire} names, recording each deletion. One already gone (a
 * retry, another process, LT-8) counts as deleted.
 */
export async function retireTemplates(
  ctx: AwsContext,
  clusterName: string,
  templates: readonly LaunchTemplate[],
  newId: string,
  previousId: string | null,
  changes: ResourceChange[],
  signal?: AbortSignal,
): Promise<void> {
  for (const old of templatesToRetire(templates, newId, previousId)) {
    const id = old.LaunchTemplateId as string;
    try {
      await ctx.call('DeleteLaunchTemplate', (abortSignal) => ctx.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: id }), { abortSignal }), { signal });
    } catch (err) {
      if (!isAwsCode(err, 'InvalidLaunchTemplateId.NotFound')) throw err;
    }
    ctx.templates.deleted(clusterName, id);
    changes.push({ resource: 'launch-template', action: 'deleted', id, detail: `${old.LaunchTemplateName} (superseded)` });
  }
}
