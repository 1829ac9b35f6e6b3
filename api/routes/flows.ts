import type { Router } from 'express';
import { z } from 'zod';
import { allOf } from '../../store/filter/filter-ast.js';
import type { FilterNode } from '../../store/filter/filter-ast.js';
import { FilterSyntaxError } from '../../store/filter/filter-syntax-error.js';
import {
  FLOW_KINDS,
  parseAddress,
  parseCidr,
  parseKind,
  parsePort,
  parseProtocol,
  parseSpi,
} from '../../store/filter/filter-values.js';
import { parseFilter } from '../../store/filter/parse-filter.js';
import type { ApiDeps } from '../api-deps.js';
import { ApiError } from '../api-error.js';
import { decodeCursor, encodeCursor, queryFingerprint } from '../cursor.js';
import { toFlowJson } from '../flow-json.js';
import { parseLimit, parseQuery, parsedParam, timeParam } from '../params.js';

type Endpoint = { readonly address: string } | { readonly network: string; readonly prefixLength: number };

const endpoint = (name: string) =>
  parsedParam<Endpoint>(
    name,
    (value) => {
      const address = parseAddress(value);
      if (address !== null) return { address };
      return parseCidr(value);
    },
    'an IP address (192.0.2.10, 2001:db8::1) or a CIDR prefix (192.0.2.0/24)',
  );

const flowsQuery = z.strictObject({
  from: timeParam('from').optional(),
  to: timeParam('to').optional(),
  filter: z.string().optional(),
  limit: z.string().optional(),
  cursor: z.string().optional(),
  src: endpoint('src').optional(),
  dst: endpoint('dst').optional(),
  proto: parsedParam(
    'proto',
    parseProtocol,
    'a protocol (esp, ah, tcp, udp, icmp, icmp6) or a number 0-255',
  ).optional(),
  port: parsedParam('port', parsePort, 'a port number 0-65535').optional(),
  spi: parsedParam('spi', parseSpi, 'an SPI in hex (0x6b1d2e93) or decimal, 32 bits').optional(),
  kind: parsedParam('kind', parseKind, `a flow kind (${FLOW_KINDS.join(', ')})`).optional(),
  tunnel: z.string().min(1, "parameter 'tunnel' must be a tunnel id; got ''").optional(),
  exporter: parsedParam('exporter', parseAddress, 'an exporter IP address').optional(),
});

type FlowsQuery = z.output<typeof flowsQuery>;

/**
 * GET /api/v1/flows: raw flows overlapping [from, to), filtered, in (endMs, id) order,
 * with keyset pagination: `nextCursor` continues exactly after the last item.
 */
export function flowRoutes(deps: ApiDeps): (router: Router) => void {
  return (router) => {
    router.get('/api/v1/flows', async (req, res) => {
      const query = parseQuery(flowsQuery, req.query);
      if (query.from !== undefined && query.to !== undefined && query.from >= query.to) {
        throw new ApiError(
          400,
          'bad-parameter',
          "parameter 'from' must be before 'to' (the window is [from, to))",
          {
            parameter: 'from',
          },
        );
      }
      const limit = parseLimit(query.limit);
      const where = allOf([...filterTerm(query.filter), ...equalityTerms(query)]);
      // What defines the walk: everything but limit and cursor, as the client wrote it.
      const raw = req.query as Record<string, unknown>;
      const fingerprint = queryFingerprint(
        Object.fromEntries(Object.entries(raw).filter(([k]) => k !== 'limit' && k !== 'cursor')),
      );
      const after = query.cursor === undefined ? null : decodeCursor(query.cursor, fingerprint);
      const page = await deps.store.flowReader.query({
        from: query.from ?? null,
        to: query.to ?? null,
        filter: where,
        after: after === null ? null : { endMs: after.key, id: after.id },
        limit,
      });
      res.json({
        items: page.items.map(toFlowJson),
        nextCursor:
          page.next === null ? null : encodeCursor({ key: page.next.endMs, id: page.next.id }, fingerprint),
      });
    });
  };
}

function filterTerm(filter: string | undefined): FilterNode[] {
  if (filter === undefined || filter.trim() === '') return [];
  try {
    return [parseFilter(filter)];
  } catch (error) {
    if (error instanceof FilterSyntaxError) {
      throw new ApiError(400, 'bad-filter', `parameter 'filter': ${error.message}`, {
        parameter: 'filter',
        position: error.position,
        expected: error.expected,
      });
    }
    throw error;
  }
}

function equalityTerms(query: FlowsQuery): FilterNode[] {
  const terms: FilterNode[] = [];
  const address = (direction: 'src' | 'dst', value: Endpoint | undefined): void => {
    if (value === undefined) return;
    terms.push(
      'address' in value
        ? { type: 'host', direction, address: value.address }
        : { type: 'net', direction, network: value.network, prefixLength: value.prefixLength },
    );
  };
  address('src', query.src);
  address('dst', query.dst);
  if (query.proto !== undefined) terms.push({ type: 'proto', proto: query.proto });
  if (query.port !== undefined) terms.push({ type: 'port', direction: 'any', op: '=', port: query.port });
  if (query.spi !== undefined) terms.push({ type: 'spi', spi: query.spi });
  if (query.kind !== undefined) terms.push({ type: 'kind', kind: query.kind });
  if (query.tunnel !== undefined) terms.push({ type: 'tunnel', tunnelId: query.tunnel });
  if (query.exporter !== undefined) terms.push({ type: 'exporter', address: query.exporter });
  return terms;
}
