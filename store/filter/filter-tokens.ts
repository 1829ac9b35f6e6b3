import { FilterSyntaxError } from './filter-syntax-error.js';

export type TokenKind = 'word' | 'string' | 'op' | '(' | ')' | 'end';

export interface Token {
  readonly kind: TokenKind;
  /** The token's text; for a quoted string, without its quotes. */
  readonly text: string;
  /** 0-based offset of the token's first character in the filter. */
  readonly position: number;
}

const OPERATORS = ['&&', '||', '!=', '<=', '>=', '==', '!', '<', '>', '='] as const;
// Characters that end a word: whitespace, parentheses, operator characters and quotes.
const WORD_END = /[\s()!&|<>="']/;

/** Splits a filter into tokens. Words hold keywords, numbers, addresses, prefixes and ids alike. */
export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === '(' || c === ')') {
      tokens.push({ kind: c, text: c, position: i });
      i += 1;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = input.indexOf(c, i + 1);
      if (end < 0) throw new FilterSyntaxError(`a closing ${c}`, input.length, null);
      tokens.push({ kind: 'string', text: input.slice(i + 1, end), position: i });
      i = end + 1;
      continue;
    }
    const operator = OPERATORS.find((op) => input.startsWith(op, i));
    if (operator !== undefined) {
      tokens.push({ kind: 'op', text: operator, position: i });
      i += operator.length;
      continue;
    }
    if (c === '&' || c === '|') throw new FilterSyntaxError(`'${c}${c}'`, i, c);
    let end = i;
    while (end < input.length && !WORD_END.test(input[end]!)) end += 1;
    tokens.push({ kind: 'word', text: input.slice(i, end), position: i });
    i = end;
  }
  tokens.push({ kind: 'end', text: '', position: input.length });
  return tokens;
}
