/** Splits `host:port` / `[v6]:port`; the CLI's argument parser has already checked the shape. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new Error(`expected HOST:PORT, got "${value}"`);
  }
  return { host: (m[1] ?? m[2]) as string, port };
}
