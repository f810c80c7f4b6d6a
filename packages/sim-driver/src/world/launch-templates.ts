import { fault } from '../aws/aws-error.js';
import type { SimContext } from '../sim-context.js';
import type { LaunchTemplateVersion, SimLaunchTemplate, Tags } from './entities.js';
import { nodeOf } from './ec2.js';

/** EC2's regional quota of launch templates. */
export const LAUNCH_TEMPLATE_QUOTA = 5000;

const NAME = /^[a-zA-Z0-9().\-/_]{3,128}$/;

/** EC2 launch templates: immutable numbered versions, `$Latest` / `$Default`, names unique per region. */
export class LaunchTemplates {
  readonly #ctx: SimContext;
  /** Live templates by name (names are unique in the region). */
  readonly #byName = new Map<string, SimLaunchTemplate>();

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
  }

  create(name: string, data: Record<string, unknown>, description: string | null, tags: Tags): SimLaunchTemplate {
    const { state } = this.#ctx;
    if (!NAME.test(name)) throw fault('InvalidLaunchTemplateName.MalformedException', `A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'`);
    if (this.byName(name)) throw fault('InvalidLaunchTemplateName.AlreadyExistsException', `Launch template name already in use.`);
    if (state.launchTemplates.size >= LAUNCH_TEMPLATE_QUOTA) throw fault('LaunchTemplateLimitExceeded', `You've reached the maximum number of launch templates (${LAUNCH_TEMPLATE_QUOTA}) for this Region.`);
    const now = this.#ctx.scheduler.nowMs;
    const lt: SimLaunchTemplate = {
      id: state.nextId('lt'),
      name,
      tags: { ...tags },
      versions: [{ versionNumber: 1, description, data: structuredClone(data), createdAtMs: now }],
      defaultVersion: 1,
      createdAtMs: now,
      deleted: false,
    };
    state.launchTemplates.set(lt.id, lt);
    this.#byName.set(name, lt);
    this.#ctx.trace.record('launch-template.created', { ...nodeOf(tags), launchTemplateId: lt.id, name });
    return lt;
  }

  createVersion(lt: SimLaunchTemplate, data: Record<string, unknown>, sourceVersion: string | null, description: string | null): LaunchTemplateVersion {
    let merged = structuredClone(data);
    if (sourceVersion !== null) {
      const source = this.resolve(lt, sourceVersion);
      if (!source) throw fault('InvalidLaunchTemplateId.VersionNotFound', `Could not find launch template version ${sourceVersion} for ${lt.id}`);
      merged = { ...structuredClone(source.data), ...merged };
    }
    const v: LaunchTemplateVersion = { versionNumber: lt.versions.length + 1, description, data: merged, createdAtMs: this.#ctx.scheduler.nowMs };
    lt.versions.push(v);
    this.#ctx.trace.record('launch-template.version', { ...nodeOf(lt.tags), launchTemplateId: lt.id, version: v.versionNumber });
    return v;
  }

  /** By id or name (exactly one given), or a NotFound fault as EC2 words it. */
  get(id: string | null, name: string | null): SimLaunchTemplate {
    if (id !== null) {
      const lt = this.#ctx.state.launchTemplates.get(id);
      if (!lt || lt.deleted) throw fault('InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${id}, does not exist.`);
      return lt;
    }
    if (name !== null) {
      const lt = this.byName(name);
      if (!lt) throw fault('InvalidLaunchTemplateName.NotFoundException', `The specified launch template, with template name ${name}, does not exist.`);
      return lt;
    }
    throw fault('MissingParameter', 'The request must include either a launch template ID or a launch template name.');
  }

  byName(name: string): SimLaunchTemplate | null {
    const lt = this.#byName.get(name);
    return lt && !lt.deleted ? lt : null;
  }

  /** A version by number, `$Latest` or `$Default`. */
  resolve(lt: SimLaunchTemplate, version: string): LaunchTemplateVersion | null {
    const n = version === '$Latest' ? lt.versions.length : version === '$Default' ? lt.defaultVersion : /^\d+$/.test(version) ? Number(version) : NaN;
    return lt.versions[n - 1] ?? null;
  }

  delete(lt: SimLaunchTemplate): void {
    lt.deleted = true;
    this.#ctx.state.launchTemplates.delete(lt.id);
    if (this.#byName.get(lt.name) === lt) this.#byName.delete(lt.name);
    this.#ctx.trace.record('launch-template.deleted', { ...nodeOf(lt.tags), launchTemplateId: lt.id });
  }
}
