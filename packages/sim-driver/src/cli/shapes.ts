// The small subset of the AWS service-model shape language that the simulated CLI needs to parse,
// coerce and validate parameters the way the AWS CLI (botocore) does.

export type ScalarShape =
  | { readonly type: 'string'; readonly min?: number }
  | { readonly type: 'integer'; readonly min?: number }
  | { readonly type: 'long'; readonly min?: number }
  | { readonly type: 'double' }
  | { readonly type: 'boolean' }
  | { readonly type: 'timestamp' };

export interface ListShape {
  readonly type: 'list';
  readonly member: Shape;
  readonly min?: number;
}

export interface StructureShape {
  readonly type: 'structure';
  /** Members in service-model order (argument tables, error lists and docs follow it). */
  readonly members: Readonly<Record<string, Shape>>;
  readonly required: readonly string[];
}

export interface MapShape {
  readonly type: 'map';
  readonly key: Shape;
  readonly value: Shape;
}

export type Shape = ScalarShape | ListShape | StructureShape | MapShape;

export const string = (min?: number): ScalarShape => (min === undefined ? { type: 'string' } : { type: 'string', min });
export const integer = (min?: number): ScalarShape => (min === undefined ? { type: 'integer' } : { type: 'integer', min });
export const boolean = (): ScalarShape => ({ type: 'boolean' });
export const list = (member: Shape, min?: number): ListShape => (min === undefined ? { type: 'list', member } : { type: 'list', member, min });
export const structure = (members: Record<string, Shape>, required: readonly string[] = []): StructureShape => ({
  type: 'structure',
  members,
  required,
});

export function isScalarShape(shape: Shape): shape is ScalarShape {
  return shape.type !== 'list' && shape.type !== 'structure' && shape.type !== 'map';
}
