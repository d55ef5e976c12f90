/**
 * Filtering, sorting and pagination of the List* operations, as SageMaker does them: NameContains
 * (case-insensitive), time bounds, StatusEquals, SortBy Name / CreationTime / Status, SortOrder,
 * MaxResults (default 10) and an opaque NextToken.
 */
import { InferqError } from '../errors/index.js';
import type { z } from 'zod';
import type { ListRequest } from './wire.js';

/** One listable resource, times in epoch ms. */
export interface Listed {
  readonly name: string;
  readonly createdAt: number;
  readonly modifiedAt: number;
  readonly status?: string;
}

const DEFAULT_MAX_RESULTS = 10;

function decodeToken(token: string): number {
  const offset = Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^o:/, ''));
  if (!Number.isSafeInteger(offset) || offset < 0 || !Buffer.from(token, 'base64url').toString('utf8').startsWith('o:')) {
    throw new InferqError('ControlPlaneValidation', 'The NextToken is not valid: pass the NextToken of the previous answer unchanged.');
  }
  return offset;
}

function compare<T extends Listed>(sortBy: string, a: T, b: T): number {
  if (sortBy === 'Name') return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  if (sortBy === 'Status') return (a.status ?? '').localeCompare(b.status ?? '') || a.createdAt - b.createdAt;
  return a.createdAt - b.createdAt || (a.name < b.name ? -1 : 1);
}

/** The page of `items` the request asks for, and the token of the next page when there is one. */
export function listPage<T extends Listed>(items: readonly T[], req: z.infer<typeof ListRequest>): { page: T[]; nextToken?: string } {
  const seconds = (ms: number): number => ms / 1000;
  const contains = req.NameContains?.toLowerCase();
  const kept = items.filter((item) => (contains === undefined || item.name.toLowerCase().includes(contains))
    && (req.CreationTimeBefore === undefined || seconds(item.createdAt) < req.CreationTimeBefore)
    && (req.CreationTimeAfter === undefined || seconds(item.createdAt) > req.CreationTimeAfter)
    && (req.LastModifiedTimeBefore === undefined || seconds(item.modifiedAt) < req.LastModifiedTimeBefore)
    && (req.LastModifiedTimeAfter === undefined || seconds(item.modifiedAt) > req.LastModifiedTimeAfter)
    && (req.StatusEquals === undefined || item.status === req.StatusEquals));
  const sortBy = req.SortBy ?? 'CreationTime';
  const sign = (req.SortOrder ?? 'Descending') === 'Ascending' ? 1 : -1;
  kept.sort((a, b) => sign * compare(sortBy, a, b));
  const offset = req.NextToken === undefined ? 0 : decodeToken(req.NextToken);
  const max = req.MaxResults ?? DEFAULT_MAX_RESULTS;
  const page = kept.slice(offset, offset + max);
  const next = offset + max;
  return next < kept.length ? { page, nextToken: Buffer.from(`o:${next}`, 'utf8').toString('base64url') } : { page };
}
