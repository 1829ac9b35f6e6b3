import type { FlowKind } from '../../model/flow.js';

/** Which address or port of a flow a predicate looks at: `src`, `dst`, or either. */
export type Direction = 'src' | 'dst' | 'any';

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** A parsed filter expression (store/filter/parse-filter.ts). Addresses are already validated. */
export type FilterNode =
  | { readonly type: 'and'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly type: 'or'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly type: 'not'; readonly operand: FilterNode }
  | { readonly type: 'any' }
  | { readonly type: 'proto'; readonly proto: number }
  | { readonly type: 'host'; readonly direction: Direction; readonly address: string }
  | {
      readonly type: 'net';
      readonly direction: Direction;
      readonly network: string;
      readonly prefixLength: number;
    }
  | { readonly type: 'port'; readonly direction: Direction; readonly op: CompareOp; readonly port: number }
  | { readonly type: 'spi'; readonly spi: number }
  | { readonly type: 'kind'; readonly kind: FlowKind }
  | { readonly type: 'tunnel'; readonly tunnelId: string }
  | { readonly type: 'exporter'; readonly address: string }
  | {
      readonly type: 'counter';
      readonly counter: 'packets' | 'bytes';
      readonly op: CompareOp;
      readonly value: number;
    };

/** Joins predicates with `and`; null when there are none. */
export function allOf(nodes: readonly FilterNode[]): FilterNode | null {
  let result: FilterNode | null = null;
  for (const node of nodes) result = result === null ? node : { type: 'and', left: result, right: node };
  return result;
}
