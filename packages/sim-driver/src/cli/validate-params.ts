// botocore's parameter validation (botocore/validate.py), which runs on every request the CLI
// builds: all problems are collected and reported together as `Parameter validation failed:`.
import { PyFloat, pyStr, pyTypeName } from './py-values.js';
import type { Shape, StructureShape } from './shapes.js';

/** Returns the report lines; empty when the parameters fit the shape. */
export function validateParams(params: unknown, shape: StructureShape): string[] {
  const errors: string[] = [];
  check(params, shape, '', errors);
  return errors;
}

function nameOf(name: string): string {
  if (name === '') return 'input';
  return name.startsWith('.') ? name.slice(1) : name;
}

function invalidType(name: string, param: unknown, validTypes: string[], errors: string[]): void {
  errors.push(`Invalid type for parameter ${nameOf(name)}, value: ${pyStr(param)}, type: ${pyTypeName(param)}, valid types: ${validTypes.join(', ')}`);
}

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyFloat);
}

// Python's bool is an int: botocore accepts True where an integer is expected.
function isPyInt(v: unknown): boolean {
  return typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v));
}

function check(param: unknown, shape: Shape, name: string, errors: string[]): void {
  switch (shape.type) {
    case 'structure': {
      if (!isDict(param)) return invalidType(name, param, ["<class 'dict'>"], errors);
      for (const required of shape.required) {
        if (!Object.hasOwn(param, required)) errors.push(`Missing required parameter in ${nameOf(name)}: "${required}"`);
      }
      const known: string[] = [];
      const memberNames = Object.keys(shape.members);
      for (const key of Object.keys(param)) {
        if (Object.hasOwn(shape.members, key)) known.push(key);
        else errors.push(`Unknown parameter in ${nameOf(name)}: "${key}", must be one of: ${memberNames.join(', ')}`);
      }
      for (const key of known) check(param[key], shape.members[key] as Shape, `${name}.${key}`, errors);
      return;
    }
    case 'list': {
      if (!Array.isArray(param)) return invalidType(name, param, ["<class 'list'>", "<class 'tuple'>"], errors);
      if (shape.min !== undefined && param.length < shape.min) {
        errors.push(`Invalid length for parameter ${nameOf(name)}, value: ${param.length}, valid min length: ${shape.min}`);
      }
      param.forEach((item, i) => check(item, shape.member, `${name}[${i}]`, errors));
      return;
    }
    case 'map': {
      if (!isDict(param)) return invalidType(name, param, ["<class 'dict'>"], errors);
      for (const [key, value] of Object.entries(param)) {
        check(key, shape.key, `${name} (key: ${key})`, errors);
        check(value, shape.value, `${name}.${key}`, errors);
      }
      return;
    }
    case 'string':
      if (typeof param !== 'string') return invalidType(name, param, ["<class 'str'>"], errors);
      if (shape.min !== undefined && param.length < shape.min) {
        errors.push(`Invalid length for parameter ${nameOf(name)}, value: ${param.length}, valid min length: ${shape.min}`);
      }
      return;
    case 'integer':
    case 'long':
      if (!isPyInt(param)) return invalidType(name, param, ["<class 'int'>"], errors);
      if (shape.min !== undefined && Number(param) < shape.min) {
        errors.push(`Invalid value for parameter ${nameOf(name)}, value: ${pyStr(param)}, valid min value: ${shape.min}`);
      }
      return;
    case 'double':
      if (!isPyInt(param) && !(param instanceof PyFloat) && typeof param !== 'number') {
        invalidType(name, param, ["<class 'float'>", "<class 'decimal.Decimal'>", "<class 'int'>"], errors);
      }
      return;
    case 'boolean':
      if (typeof param !== 'boolean') invalidType(name, param, ["<class 'bool'>"], errors);
      return;
    case 'timestamp':
      if (typeof param !== 'string' || Number.isNaN(Date.parse(param))) invalidType(name, param, ["<class 'datetime.datetime'>", 'timestamp-string'], errors);
      return;
  }
}
