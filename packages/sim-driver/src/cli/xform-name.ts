// botocore's xform_name: the CLI's option names come from the API member names this way
// (`VolumeIds` -> `volume-ids`, `TargetGroupARNs` -> `target-group-arns`).
export function xformName(name: string, sep = '-'): string {
  if (name.includes(sep)) return name;
  let s = name;
  const special = /[A-Z]{2,}s$/u.exec(s);
  if (special !== null) s = `${s.slice(0, -special[0].length)}${sep}${special[0].toLowerCase()}`;
  s = s.replace(/(.)([A-Z][a-z]+)/gu, `$1${sep}$2`);
  return s.replace(/([a-z0-9])([A-Z])/gu, `$1${sep}$2`).toLowerCase();
}
