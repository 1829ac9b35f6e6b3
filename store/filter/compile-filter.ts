import ipaddr from 'ipaddr.js';
import { sql } from 'kysely';
import type { RawBuilder, SqlBool } from 'kysely';
import { keyOfParsed, prefixKeyRange } from '../address-key.js';
import { tunnelKey } from '../flows/tunnel-key.js';
import type { CompareOp, Direction, FilterNode } from './filter-ast.js';

/**
 * Compiles a filter AST into a parameterised SQL condition over the `flows` table.
 * Every value travels as a bound parameter; only column names and operators (from the
 * AST's closed sets) are written into the SQL text.
 *
 * Addresses compare through the sortable keys (src_key / dst_key, store/address-key.ts):
 * `host` is key equality, `net` a key range, both exact for IPv4 and IPv6.
 *
 * `not` is null-safe: ports, SPI and other optional columns are NULL on flows that lack
 * them, and `not port 53` must keep an ESP flow (no ports), so a negated condition that
 * evaluates to NULL counts as false before negation.
 */
export function compileFilter(node: FilterNode): RawBuilder<SqlBool> {
  switch (node.type) {
    case 'and':
      return sql<SqlBool>`(${compileFilter(node.left)} AND ${compileFilter(node.right)})`;
    case 'or':
      return sql<SqlBool>`(${compileFilter(node.left)} OR ${compileFilter(node.right)})`;
    case 'not':
      return sql<SqlBool>`(NOT coalesce(${compileFilter(node.operand)}, FALSE))`;
    case 'any':
      return sql<SqlBool>`TRUE`;
    case 'proto':
      return sql<SqlBool>`${sql.ref('proto')} = ${node.proto}`;
    case 'host': {
      const key = keyOfParsed(ipaddr.parse(node.address));
      return onAddress(node.direction, (column) => sql<SqlBool>`${sql.ref(column)} = ${key}`);
    }
    case 'net': {
      const [low, high] = prefixKeyRange(ipaddr.parse(node.network), node.prefixLength);
      return onAddress(
        node.direction,
        (column) => sql<SqlBool>`${sql.ref(column)} BETWEEN ${low} AND ${high}`,
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
  return either(direction, 'src_key', 'dst_key', condition);
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
