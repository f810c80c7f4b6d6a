import { BerthError } from '../errors.js';
import type { DeployReport, Side } from './blue-green-types.js';

/** Where a deploy failed (`plan`: the cloud's state blocks it, nothing was done). */
export type DeployStage = 'plan' | 'create' | 'healthy' | 'verify' | 'shift' | 'window' | 'rollback' | 'delete';

/**
 * A blue/green deploy failed (`DEPLOY_FAILED`). `stage` says where; `live` where traffic goes
 * now; `shiftedBack` whether it went back to the old side; `deleted` the side removed because
 * it failed (null when kept, see `keepFailedSide`). `report` says how far the deploy came.
 */
export class BerthDeployError extends BerthError {
  readonly stage: DeployStage;
  readonly side: Side | null;
  readonly live: Side | null;
  readonly shiftedBack: boolean;
  readonly deleted: Side | null;
  readonly reason: string;
  report: DeployReport | null = null;
  constructor(
    reason: string,
    details: { stage: DeployStage; side: Side | null; live: Side | null; shiftedBack?: boolean; deleted?: Side | null; cause?: unknown },
  ) {
    super('DEPLOY_FAILED', `Blue/green deploy failed (${details.stage}): ${reason}`, { cause: details.cause });
    this.reason = reason;
    this.stage = details.stage;
    this.side = details.side;
    this.live = details.live;
    this.shiftedBack = details.shiftedBack ?? false;
    this.deleted = details.deleted ?? null;
  }
}
