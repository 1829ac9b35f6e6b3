import ipaddr from 'ipaddr.js';
import { sql } from 'kysely';
import type { RawBuilder, SqlBool } from 'kysely';
import { IP_KEY_FUNCTION, prefixKeyRange } from '../address-key.js';
import { tunnelKey } from '../flows/tunnel-key.js';
import type { CompareOp, Direction, FilterNode } from './filter-ast.js';

/** Which engine's SQL to write: the address columns are text on SQLite, inet on PostgreSQL. */
export type FilterDialect = 'sqlite' | 'postgres';

/**
 * Compiles a filter AST into a parameterised SQL condition over the `flows` table.
 * Every value travels as a bound parameter; only column names and operators (from the
 * AST's closed sets) are written into the SQL text.
 *
 * Addresses are stored as canonical text (dotted quad; RFC 5952 for IPv6, as the decoders
 * write them), so `host` is text equality. An IPv4 `net` is plain SQL over that text: its
 * whole octets are a text prefix, and a partial octet a range of the next octet's value.
 * An IPv6 `net` compares sortable keys (store/address-key.ts) made by a function every
 * store connection registers: slower per row, and IPv6 filters are the rarer ones.
 *
 * `not` is null-safe: ports, SPI and other optional columns are NULL on flows that lack
 * them, and `not port 53` must keep an ESP flow (no ports), so a negated condition that
 * evaluates to NULL counts as false before negation.
 *
 * On PostgreSQL (`dialect` 'postgres') `src` and `dst` are `inet` columns: `host` is inet
 * equality and `net` the inet/cidr containment operator `<<=`, for both families alike (an
 * IPv4 address is never in an IPv6 prefix, nor the reverse); everything else is the same SQL.
 */
export function compileFilter(node: FilterNode, dialect: FilterDialect = 'sqlite'): RawBuilder<SqlBool> {
  switch (node.type) {
    case 'and':
      return sql<SqlBool>`(${compileFilter(node.left, dialect)} AND ${compileFilter(node.right, dialect)})`;
    case 'or':
      return sql<SqlBool>`(${compileFilter(node.left, dialect)} OR ${compileFilter(node.right, dialect)})`;
    case 'not':
      return sql<SqlBool>`(NOT coalesce(${compileFilter(node.operand, dialect)}, FALSE))`;
    case 'any':
      return sql<SqlBool>`TRUE`;
    case 'proto':
      return sql<SqlBool>`${sql.ref('proto')} = ${node.proto}`;
    case 'host':
      if (dialect === 'postgres') {
        return onAddress(
          node.direction,
          (column) => sql<SqlBool>`${sql.ref(column)} = ${node.address}::inet`,
        );
      }
      // The parser and the API put addresses in that canonical text (filter-values.ts).
      return onAddress(node.direction, (column) => sql<SqlBool>`${sql.ref(column)} = ${node.address}`);
    case 'net': {
      if (dialect === 'postgres') {
        const cidr = `${node.network}/${node.prefixLength}`;
        return onAddress(node.direction, (column) => sql<SqlBool>`${sql.ref(column)} <<= ${cidr}::cidr`);
      }
      const network = ipaddr.parse(node.network);
      if (network.kind() === 'ipv4') {
        const octets = (network as ipaddr.IPv4).octets;
        return onAddress(node.direction, (column) => inIpv4Net(column, octets, node.prefixLength));
      }
      const [low, high] = prefixKeyRange(network, node.prefixLength);
      return onAddress(
        node.direction,
        (column) => sql<SqlBool>`${sql.raw(IP_KEY_FUNCTION)}(${sql.ref(column)}) BETWEEN ${low} AND ${high}`,
      );
    }
    case 'port':
      return either(node.direction, 'src_port', 'dst_port', (column) => compare(column, node.op, node.port));
    case 'spi':
      return sql<SqlBool>`${sql.ref('spi')} = ${node.spi}`;
    case 'kind':
      return sql<SqlBool>`${sql.ref('kind')} = ${node.kind}`;
    case 'tunnel':
      // The key finds the rows through the drill-down index; the id rules out collisions.
      return sql<SqlBool>`(${sql.ref('tunnel_key')} = ${tunnelKey(node.tunnelId)} AND ${sql.ref('tunnel_id')} = ${node.tunnelId})`;
    case 'exporter':
      return sql<SqlBool>`${sql.ref('exporter')} = ${node.address}`;
    case 'counter':
      return compare(node.counter === 'packets' ? 'packets' : 'octets', node.op, node.value);
  }
}

function onAddress(
  direction: Direction,
  condition: (column: string) => RawBuilder<SqlBool>,
): RawBuilder<SqlBool> {
  return either(direction, 'src', 'dst', condition);
}

/**
 * `column` (a dotted quad, no leading zeros) in an IPv4 prefix, in plain SQL: the whole
 * octets of the prefix match as a text prefix (with their dot, so `10.` never matches
 * `100.`); a partial octet as the value of the next octet, which CAST reads off the
 * remaining text (it stops at the dot). IPv6 text has no dot and never matches.
 */
function inIpv4Net(column: string, octets: readonly number[], prefixLength: number): RawBuilder<SqlBool> {
  const ref = sql.ref(column);
  const whole = Math.floor(prefixLength / 8);
  if (whole === 4) return sql<SqlBool>`${ref} = ${octets.join('.')}`;
  const prefix = whole === 0 ? '' : `${octets.slice(0, whole).join('.')}.`;
  const conditions =
    whole === 0
      ? [sql<SqlBool>`instr(${ref}, '.') > 0`]
      : [sql<SqlBool>`substr(${ref}, 1, ${prefix.length}) = ${prefix}`];
  const bits = prefixLength % 8;
  if (bits > 0) {
    const mask = (0xff << (8 - bits)) & 0xff;
    const low = (octets[whole] ?? 0) & mask;
    const high = low | (~mask & 0xff);
    const rest = whole === 0 ? ref : sql`substr(${ref}, ${prefix.length + 1})`;
    conditions.push(sql<SqlBool>`CAST(${rest} AS INTEGER) BETWEEN ${low} AND ${high}`);
  }
  return sql<SqlBool>`(${sql.join(conditions, sql` AND `)})`;
}

function either(
  direction: Direction,
  srcColumn: string,
  dstColumn: string,
  condition: (column: string) => RawBuilder<SqlBool>,
): RawBuilder<SqlBool> {
  if (direction === 'src') return condition(srcColumn);
  if (direction === 'dst') return condition(dstColumn);
  return sql<SqlBool>`(${condition(srcColumn)} OR ${condition(dstColumn)})`;
}

const OPERATORS: Readonly<Record<CompareOp, string>> = {
  '=': '=',
  '!=': '<>',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

function compare(column: string, op: CompareOp, value: number): RawBuilder<SqlBool> {
  return sql<SqlBool>`${sql.ref(column)} ${sql.raw(OPERATORS[op])} ${value}`;
}
