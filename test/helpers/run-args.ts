/**
 * The arguments of a `tunnelflow run` that tests and benchmarks start on loopback: the
 * database given (a file or a URL), every port chosen by the OS (the `listening` line on
 * stdout says which), the API on 127.0.0.1.
 */
export function loopbackRunArgs(db: string): string[] {
  return [
    'run',
    '--db',
    db,
    '--listen',
    '127.0.0.1',
    '--netflow-port',
    '0',
    '--ipfix-port',
    '0',
    '--http',
    '127.0.0.1:0',
  ];
}
