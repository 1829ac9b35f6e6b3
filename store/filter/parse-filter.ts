import type { CompareOp, Direction, FilterNode } from './filter-ast.js';
import { FilterSyntaxError } from './filter-syntax-error.js';
import { tokenize } from './filter-tokens.js';
import type { Token } from './filter-tokens.js';
import {
  FLOW_KINDS,
  parseAddress,
  parseCidr,
  parseCount,
  parseKind,
  parsePort,
  parseProtocol,
  parseSpi,
} from './filter-values.js';

/** Longest filter accepted: the parser is linear, but nobody writes 4 KiB of filter by hand. */
export const MAX_FILTER_LENGTH = 4096;
/** Deepest nesting of parentheses and `not`, so that recursion stays far from the stack's end. */
const MAX_DEPTH = 64;

const COMPARE_WORDS: Readonly<Record<string, CompareOp>> = {
  eq: '=',
  ne: '!=',
  lt: '<',
  le: '<=',
  gt: '>',
  ge: '>=',
};

/**
 * Parses an nfdump-like filter into an AST:
 *
 *   filter    := or
 *   or        := and (("or" | "||") and)*
 *   and       := unary (("and" | "&&") unary)*
 *   unary     := ("not" | "!") unary | "(" or ")" | predicate
 *   predicate := "any"
 *              | "proto" (esp|ah|tcp|udp|icmp|icmp6|gre|sctp|NUMBER)
 *              | [src|dst] (host|ip) ADDRESS
 *              | [src|dst] net CIDR
 *              | [src|dst] port [COMPARE] NUMBER
 *              | spi NUMBER                       (hex 0x… or decimal)
 *              | kind FLOWKIND
 *              | tunnel ID                        (a word or a quoted string)
 *              | exporter ADDRESS
 *              | (packets|bytes|octets) [COMPARE] COUNT   (k/m/g suffixes)
 *   COMPARE   := = | == | != | < | <= | > | >= | eq | ne | lt | le | gt | ge
 *
 * Keywords are case-insensitive. `and` binds tighter than `or`. Throws FilterSyntaxError
 * with the position of the offending token; never anything else.
 */
export function parseFilter(input: string): FilterNode {
  if (typeof input !== 'string') throw new FilterSyntaxError('a filter text', 0, null);
  if (input.length > MAX_FILTER_LENGTH) {
    throw new FilterSyntaxError(
      `a filter of at most ${MAX_FILTER_LENGTH} characters`,
      MAX_FILTER_LENGTH,
      input.slice(MAX_FILTER_LENGTH, MAX_FILTER_LENGTH + 10),
    );
  }
  const parser = new Parser(tokenize(input));
  const node = parser.parseOr(0);
  parser.expectEnd();
  return node;
}

class Parser {
  readonly #tokens: readonly Token[];
  #index = 0;

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
  }

  parseOr(depth: number): FilterNode {
    let node = this.parseAnd(depth);
    while (this.#isKeyword('or') || this.#isOp('||')) {
      this.#next();
      node = { type: 'or', left: node, right: this.parseAnd(depth) };
    }
    return node;
  }

  parseAnd(depth: number): FilterNode {
    let node = this.parseUnary(depth);
    while (this.#isKeyword('and') || this.#isOp('&&')) {
      this.#next();
      node = { type: 'and', left: node, right: this.parseUnary(depth) };
    }
    return node;
  }

  parseUnary(depth: number): FilterNode {
    if (depth > MAX_DEPTH) throw this.#expected(`at most ${MAX_DEPTH} nested levels`);
    if (this.#isKeyword('not') || this.#isOp('!')) {
      this.#next();
      return { type: 'not', operand: this.parseUnary(depth + 1) };
    }
    if (this.#peek().kind === '(') {
      this.#next();
      const node = this.parseOr(depth + 1);
      if (this.#peek().kind !== ')') throw this.#expected("')'");
      this.#next();
      return node;
    }
    return this.#predicate();
  }

  expectEnd(): void {
    const token = this.#peek();
    if (token.kind !== 'end') {
      throw new FilterSyntaxError(
        "'and', 'or' or the end of the filter",
        token.position,
        token.text,
        this.#previousText(),
      );
    }
  }

  #predicate(): FilterNode {
    const token = this.#peek();
    const keyword = token.kind === 'word' ? token.text.toLowerCase() : '';
    let direction: Direction = 'any';
    if (keyword === 'src' || keyword === 'dst') {
      direction = keyword;
      this.#next();
      const next = this.#peek();
      const what = next.kind === 'word' ? next.text.toLowerCase() : '';
      if (what !== 'host' && what !== 'ip' && what !== 'net' && what !== 'port') {
        throw this.#expected("'host', 'net' or 'port'");
      }
      return this.#addressOrPort(direction, what);
    }
    switch (keyword) {
      case 'any':
        this.#next();
        return { type: 'any' };
      case 'host':
      case 'ip':
      case 'net':
      case 'port':
        return this.#addressOrPort(direction, keyword);
      case 'proto': {
        this.#next();
        const proto = parseProtocol(this.#peek().text);
        if (this.#peek().kind !== 'word' || proto === null) {
          throw this.#expected('a protocol (esp, ah, tcp, udp, icmp, icmp6 or a number 0-255)');
        }
        this.#next();
        return { type: 'proto', proto };
      }
      case 'spi': {
        this.#next();
        const spi = parseSpi(this.#peek().text);
        if (this.#peek().kind !== 'word' || spi === null)
          throw this.#expected('an SPI (0x6b1d2e93 or a decimal 32-bit number)');
        this.#next();
        return { type: 'spi', spi };
      }
      case 'kind': {
        this.#next();
        const kind = parseKind(this.#peek().text);
        if (this.#peek().kind !== 'word' || kind === null)
          throw this.#expected(`a flow kind (${FLOW_KINDS.join(', ')})`);
        this.#next();
        return { type: 'kind', kind };
      }
      case 'tunnel': {
        this.#next();
        const id = this.#peek();
        if ((id.kind !== 'word' && id.kind !== 'string') || id.text === '')
          throw this.#expected('a tunnel id');
        this.#next();
        return { type: 'tunnel', tunnelId: id.text };
      }
      case 'exporter': {
        this.#next();
        const address = parseAddress(this.#peek().text);
        if (this.#peek().kind !== 'word' || address === null) throw this.#expected('an exporter address');
        this.#next();
        return { type: 'exporter', address };
      }
      case 'packets':
      case 'bytes':
      case 'octets': {
        this.#next();
        const op = this.#compareOp();
        const value = parseCount(this.#peek().text);
        if (this.#peek().kind !== 'word' || value === null) {
          throw this.#expected('a count (a whole number, optionally with k, m or g)');
        }
        this.#next();
        return { type: 'counter', counter: keyword === 'packets' ? 'packets' : 'bytes', op, value };
      }
      default:
        throw this.#expected(
          "a filter term (proto, host, net, port, spi, kind, tunnel, exporter, packets, bytes, not or '(')",
        );
    }
  }

  #addressOrPort(direction: Direction, keyword: string): FilterNode {
    this.#next();
    const token = this.#peek();
    if (keyword === 'port') {
      const op = this.#compareOp();
      const port = parsePort(this.#peek().text);
      if (this.#peek().kind !== 'word' || port === null) throw this.#expected('a port number 0-65535');
      this.#next();
      return { type: 'port', direction, op, port };
    }
    if (keyword === 'net') {
      const cidr = token.kind === 'word' ? parseCidr(token.text) : null;
      if (cidr === null) throw this.#expected('a CIDR prefix (192.0.2.0/24 or 2001:db8::/32)');
      this.#next();
      return { type: 'net', direction, network: cidr.network, prefixLength: cidr.prefixLength };
    }
    const address = token.kind === 'word' ? parseAddress(token.text) : null;
    if (address === null) throw this.#expected('an address');
    this.#next();
    return { type: 'host', direction, address };
  }

  /** An optional comparison operator; `=` when there is none. */
  #compareOp(): CompareOp {
    const token = this.#peek();
    if (token.kind === 'op') {
      const op = token.text === '==' ? '=' : token.text;
      if (op === '=' || op === '!=' || op === '<' || op === '<=' || op === '>' || op === '>=') {
        this.#next();
        return op;
      }
    }
    if (token.kind === 'word') {
      const op = COMPARE_WORDS[token.text.toLowerCase()];
      if (op !== undefined) {
        this.#next();
        return op;
      }
    }
    return '=';
  }

  #expected(what: string): FilterSyntaxError {
    const token = this.#peek();
    return new FilterSyntaxError(
      what,
      token.position,
      token.kind === 'end' ? null : token.text,
      this.#previousText(),
    );
  }

  #previousText(): string | null {
    const previous = this.#tokens[this.#index - 1];
    return previous === undefined ? null : previous.text;
  }

  #peek(): Token {
    return this.#tokens[this.#index] ?? this.#tokens[this.#tokens.length - 1]!;
  }

  #next(): void {
    if (this.#index < this.#tokens.length - 1) this.#index += 1;
  }

  #isKeyword(word: string): boolean {
    const token = this.#peek();
    return token.kind === 'word' && token.text.toLowerCase() === word;
  }

  #isOp(op: string): boolean {
    const token = this.#peek();
    return token.kind === 'op' && token.text === op;
  }
}
