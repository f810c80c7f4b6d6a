/**
 * Tags AWS allows on one EC2 resource (instance, volume, network interface, launch template,
 * snapshot) or Auto Scaling group; `aws:` tags do not count (docs/aws-behaviour.md, TAG-1).
 */
export const AWS_TAGS_PER_RESOURCE = 50;

/**
 * The most tags Berth itself puts on one resource. The AWS driver tags every node resource
 * with `Name`, `berth:cluster` and `berth:node` (names.ts, nodeTags), and a launch template
 * also with `berth:revision`, `berth:eni-id`, `berth:volume-id`, `berth:security-groups` and
 * `berth:previous-template` (ensure-node.ts): 8; a group up to 9 (below). Others carry fewer (an instance 5 with the
 * bootstrap's `berth:phase`, a data volume 6 with the `berth:deletion-policy` deleteNode may
 * copy onto it; a group 5, and up to 9 with `berth:deletion-policy`, `berth:membership`, and
 * `berth:paused` while paused and `berth:on-demand-since` while a spot node runs on-demand). test/spec/tag-budget.test.ts rolls a
 * simulated cluster with {@link USER_TAGS_MAX} tags and counts every resource's tags, so a new
 * Berth tag that breaks this budget fails there.
 */
export const BERTH_TAGS_PER_RESOURCE = 9;

/** How many tags a spec may set: what AWS allows on one resource, less Berth's own. */
export const USER_TAGS_MAX = AWS_TAGS_PER_RESOURCE - BERTH_TAGS_PER_RESOURCE;
