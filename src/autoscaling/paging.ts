/**
 * Pagination of DescribeScalableTargets and DescribeScalingPolicies: at most `max` items a page
 * (MaxResults, or the operation's default) and an opaque NextToken naming the last key handed out, so a page after a
 * concurrent register or delete neither repeats nor skips what stayed.
 */
import { InferqError } from '../errors/index.js';

const PREFIX = 'k:';

function afterKey(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith(PREFIX) || Buffer.from(text, 'utf8').toString('base64url') !== token) {
    throw new InferqError('ScalingInvalidNextToken', 'The NextToken is not valid: pass the NextToken of the previous answer unchanged.');
  }
  return text.slice(PREFIX.length);
}

/**
 * The page of `items` after `nextToken`, ordered by key (here, in the order `>` compares: the
 * stores' byte order differs from it beyond the ASCII range), and the token of the next page when
 * there is one.
 */
export function pageOf<T extends { readonly key: string }>(items: readonly T[], max: number, nextToken: string | undefined): { page: T[]; nextToken?: string } {
  const after = nextToken === undefined ? undefined : afterKey(nextToken);
  const sorted = [...items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const rest = after === undefined ? sorted : sorted.filter((item) => item.key > after);
  const page = rest.slice(0, max);
  return rest.length > max ? { page, nextToken: Buffer.from(`${PREFIX}${page[page.length - 1]!.key}`, 'utf8').toString('base64url') } : { page };
}
