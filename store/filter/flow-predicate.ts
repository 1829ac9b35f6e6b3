import ipaddr from 'ipaddr.js';
import { canonicalIpv4, parseIpv4 } from '../../model/address-parse.js';
import { FLOW_INTEGER_COLUMNS, FLOW_TEXT_COLUMNS } from '../flows/flow-columns.js';
import { IPV4_TEXT } from '../flows/flow-columns-view.js';
import type { FlowColumnsView } from '../flows/flow-columns-view.js';
import type { CompareOp, Direction, FilterNode } from './filter-ast.js';

/**
 * Binds a filter to one set of flows: the work per dictionary string (address, kind,
 * tunnel and exporter matching) is done here, once; returns the per-row test.
 */
export type FlowPredicate = (view: FlowColumnsView) => (row: number) => boolean;

/** A test of one row against a bound view. */
type RowTest = (row: number) => boolean;

/**
 * Compiles a filter AST into a predicate evaluated in JavaScript over flows held column
 * by column (store/flows/flow-columns-view.ts), with exactly the meaning the SQL of
 * compileFilter (compile-filter.ts) has on SQLite, for engines that cannot run that SQL
 * over their raw flows (columnar blocks, issue 11).
 *
 * Null handling. The SQL is three-valued: a comparison with a NULL column is NULL, and
 * WHERE keeps a row only when the condition IS TRUE. Here every test is two-valued and
 * answers "is the SQL condition TRUE" — a null column makes a leaf false. By induction
 * over the AST that is the same thing:
 * - a leaf is TRUE exactly when its column is not null and the comparison holds;
 * - `a AND b` is TRUE exactly when both are TRUE, `a OR b` when either is TRUE, whatever
 *   the other one is (NULL OR TRUE is TRUE, NULL AND TRUE is NULL, i.e. not TRUE);
 * - `not a` compiles to `NOT coalesce(a, FALSE)`, which is TRUE exactly when `a` is not
 *   TRUE (FALSE or NULL), and never NULL: that is `!test(a)`.
 * So the rows this keeps are the rows the SQL's WHERE keeps. (A plain SQL `NOT a` would
 * not be: NOT NULL is NULL, and `not port 53` would drop ESP flows, which have no ports.)
 *
 * Speed. The per-row cost is array lookups and number compares: string predicates become
 * a Uint8Array of matches indexed by dictionary index, filled when the predicate is bound
 * to a view; no address is parsed per row.
 */
export function compileFlowPredicate(node: FilterNode): FlowPredicate {
  switch (node.type) {
    case 'and': {
      const left = compileFlowPredicate(node.left);
      const right = compileFlowPredicate(node.right);
      return (view) => {
        const a = left(view);
        const b = right(view);
        return (row) => a(row) && b(row);
      };
    }
    case 'or': {
      const left = compileFlowPredicate(node.left);
      const right = compileFlowPredicate(node.right);
      return (view) => {
        const a = left(view);
        const b = right(view);
        return (row) => a(row) || b(row);
      };
    }
    case 'not': {
      const operand = compileFlowPredicate(node.operand);
      return (view) => {
        const a = operand(view);
        return (row) => !a(row);
      };
    }
    case 'any':
      return () => () => true;
    case 'proto':
      return compareInteger(PROTO, '=', node.proto);
    case 'host': {
      const address = node.address;
      const value = canonicalIpv4(address);
      return onAddress(addressColumns(node.direction), {
        text: (text) => text === address,
        ipv4: (ipv4) => ipv4 === value,
      });
    }
    case 'net':
      return onAddress(addressColumns(node.direction), inNet(node.network, node.prefixLength));
    case 'port':
      return eitherInteger(portColumns(node.direction), node.op, node.port);
    case 'spi':
      return compareInteger(SPI, '=', node.spi);
    case 'kind': {
      const kind = node.kind;
      return onText([KIND], (text) => text === kind);
    }
    case 'tunnel': {
      // The SQL also compares tunnel_key, but the writer derives it from tunnel_id
      // (tunnel-key.ts): it only lets the index find the rows, tunnel_id decides.
      const tunnelId = node.tunnelId;
      return onText([TUNNEL_ID], (text) => text === tunnelId);
    }
    case 'exporter': {
      const address = node.address;
      return onText([EXPORTER], (text) => text === address);
    }
    case 'counter':
      return compareInteger(node.counter === 'packets' ? PACKETS : OCTETS, node.op, node.value);
  }
}

function integerColumn(name: (typeof FLOW_INTEGER_COLUMNS)[number]): number {
  return FLOW_INTEGER_COLUMNS.indexOf(name);
}

function textColumn(name: (typeof FLOW_TEXT_COLUMNS)[number]): number {
  return FLOW_TEXT_COLUMNS.indexOf(name);
}

const PROTO = integerColumn('proto');
const SRC_PORT = integerColumn('src_port');
const DST_PORT = integerColumn('dst_port');
const SPI = integerColumn('spi');
const PACKETS = integerColumn('packets');
const OCTETS = integerColumn('octets');
const EXPORTER = textColumn('exporter');
const SRC = textColumn('src');
const DST = textColumn('dst');
const KIND = textColumn('kind');
const TUNNEL_ID = textColumn('tunnel_id');

function addressColumns(direction: Direction): readonly number[] {
  return direction === 'src' ? [SRC] : direction === 'dst' ? [DST] : [SRC, DST];
}

function portColumns(direction: Direction): readonly number[] {
  return direction === 'src' ? [SRC_PORT] : direction === 'dst' ? [DST_PORT] : [SRC_PORT, DST_PORT];
}

/**
 * A test on one or two text columns (`any` direction: either matches, as the SQL's OR).
 * `matches` runs once per dictionary string when the predicate is bound; a row then costs
 * one lookup per column. The table is shifted by one so that a null column (index -1)
 * reads entry 0, which never matches, and no lookup falls outside the array.
 */
function onText(columns: readonly number[], matches: (text: string) => boolean): FlowPredicate {
  return (view) => {
    const table = textTable(view.strings, matches);
    const [first, second] = columns as [number, number | undefined];
    if (second === undefined) return (row) => table[view.text(first, row) + 1] === 1;
    return (row) => table[view.text(first, row) + 1] === 1 || table[view.text(second, row) + 1] === 1;
  };
}

function textTable(strings: readonly string[], matches: (text: string) => boolean): Uint8Array {
  const table = new Uint8Array(strings.length + 1);
  for (let i = 0; i < strings.length; i += 1) table[i + 1] = matches(strings[i]!) ? 1 : 0;
  return table;
}

/** A test of an address: on its text, or on its 32-bit value when the flows hold it so. */
interface AddressTest {
  readonly text: (text: string) => boolean;
  readonly ipv4: (value: number) => boolean;
}

/**
 * onText for the address columns, which hold an IPv4 address as its value (IPV4_TEXT,
 * store/flows/flow-columns-view.ts) and any other as a dictionary string.
 */
function onAddress(columns: readonly number[], test: AddressTest): FlowPredicate {
  return (view) => {
    const table = textTable(view.strings, test.text);
    const matchesIpv4 = test.ipv4;
    const one = (column: number, row: number): boolean => {
      const index = view.text(column, row);
      return index === IPV4_TEXT ? matchesIpv4(view.ipv4(column, row)) : table[index + 1] === 1;
    };
    const [first, second] = columns as [number, number | undefined];
    if (second === undefined) return (row) => one(first, row);
    return (row) => one(first, row) || one(second, row);
  };
}

/**
 * `address in network/prefixLength`, as the SQL has it for the addresses the store holds
 * (canonical text, model/address-text.ts). The family decides first: an IPv4 address is
 * never in an IPv6 prefix (not even ::ffff:0:0/96), nor the reverse.
 * - IPv4: the SQL works on the dotted-quad text itself (whole octets as a text prefix, a
 *   partial octet as a number range), which for canonical text (no leading zeros) is the
 *   address's 32-bit value in the prefix's range; parseIpv4 reads that value without
 *   allocating, and -1 (no dotted quad: IPv6, tunnel ids) is below every range.
 * - IPv6: the SQL compares the keys of store/address-key.ts, the bytes ipaddr.js parses
 *   from the text, with the prefix's [low, high] key range: that is "the first
 *   prefixLength bits are the network's", ipaddr.js's match() on the same parse. Text
 *   without a colon, or with a character ipaddr.js never accepts in an IPv6 address (hex
 *   digits, colons, dots, a zone id's letters and digits), is none: tunnel and SA ids
 *   (`_`, `-`) are ruled out before a parse whose failure throws.
 */
function inNet(network: string, prefixLength: number): AddressTest {
  const parsed = ipaddr.parse(network);
  if (parsed.kind() === 'ipv4') {
    const size = 2 ** (32 - prefixLength);
    const value = parsed.toByteArray().reduce((sum, octet) => sum * 256 + octet, 0);
    const low = Math.floor(value / size) * size;
    const high = low + size - 1;
    const inRange = (address: number) => address >= low && address <= high;
    return { text: (text) => inRange(parseIpv4(text)), ipv4: inRange };
  }
  const prefix = parsed as ipaddr.IPv6;
  return {
    ipv4: () => false,
    text: (text) => {
      if (!text.includes(':') || !IPV6_CHARACTERS.test(text)) return false;
      let address: ipaddr.IPv6;
      try {
        address = ipaddr.IPv6.parse(text);
      } catch {
        return false;
      }
      return address.match(prefix, prefixLength);
    },
  };
}

const IPV6_CHARACTERS = /^[0-9a-z:.%]+$/i;

/** A comparison of one integer column with a constant; NaN (null) is never TRUE. */
function compareInteger(column: number, op: CompareOp, value: number): FlowPredicate {
  return (view) => integerTest(view, column, op, value);
}

function eitherInteger(columns: readonly number[], op: CompareOp, value: number): FlowPredicate {
  const [first, second] = columns as [number, number | undefined];
  if (second === undefined) return compareInteger(first, op, value);
  return (view) => {
    const a = integerTest(view, first, op, value);
    const b = integerTest(view, second, op, value);
    return (row) => a(row) || b(row);
  };
}

/**
 * One closure per operator, so that the row test holds no switch. Every JavaScript
 * comparison with NaN is false except `!==`, which gets an explicit null check.
 */
function integerTest(view: FlowColumnsView, column: number, op: CompareOp, value: number): RowTest {
  switch (op) {
    case '=':
      return (row) => view.integer(column, row) === value;
    case '!=':
      return (row) => {
        const x = view.integer(column, row);
        return x !== value && !Number.isNaN(x);
      };
    case '<':
      return (row) => view.integer(column, row) < value;
    case '<=':
      return (row) => view.integer(column, row) <= value;
    case '>':
      return (row) => view.integer(column, row) > value;
    case '>=':
      return (row) => view.integer(column, row) >= value;
  }
}
