import type { Phase } from '../observation.js';
import type { RollReport } from './roll-report.js';

/** Every event a controller emits, by name. Each carries the clock time `atMs`. */
export interface ControllerEvents {
  'lock.acquired': { holder: string; token: number; expiresAtMs: number; atMs: number };
  'lock.released': { holder: string; atMs: number };
  'apply.node': { nodeId: string; changes: readonly { resource: string; action: string; id: string }[]; atMs: number };
  'roll.started': { rollId: string; outdated: readonly string[]; maxUnavailable: number; tolerance: number; atMs: number };
  'roll.waiting': { reason: string; nodeIds: readonly string[]; atMs: number };
  'batch.started': { index: number; nodeIds: readonly string[]; budget: number; atMs: number };
  'batch.completed': { index: number; nodeIds: readonly string[]; durationMs: number; atMs: number };
  'node.replacing': { nodeId: string; instanceId: string; atMs: number };
  'node.phase': { nodeId: string; instanceId: string; phase: Phase; reason: string | null; atMs: number };
  'node.replaced': { nodeId: string; oldInstanceId: string | null; newInstanceId: string; durationMs: number; atMs: number };
  'node.failed': { nodeId: string; instanceId: string | null; reason: string; atMs: number };
  'node.lost': { nodeId: string; instanceId: string; atMs: number };
  'node.recovered': { nodeId: string; instanceId: string; downMs: number; atMs: number };
  'node.stuck': { nodeId: string; phase: string; sinceMs: number; atMs: number };
  'quorum.at-risk': { down: readonly string[]; tolerance: number; atMs: number };
  'quorum.restored': { atMs: number };
  'dns.repaired': { records: readonly string[]; atMs: number };
  'roll.halted': { reason: string; nodeId: string | null; phase: string | null; lastError: string | null; report: RollReport; atMs: number };
  'roll.completed': { report: RollReport; atMs: number };
}

export type ControllerEventName = keyof ControllerEvents;
