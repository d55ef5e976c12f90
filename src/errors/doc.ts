/** Renders docs/errors.md from the catalogue (a test keeps the committed file in sync). */
import { ERROR_CATALOGUE } from './catalogue.js';

/** The Markdown reference of every error code. */
export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(([code, s]) => `| \`${code}\` | ${s.httpStatus} | ${s.retryable ? 'yes' : 'no'} | \`${s.s3}\` | \`${s.sagemaker}\` | ${s.description} |`);
  return [
    '# Error reference',
    '',
    'Generated from `src/errors/catalogue.ts` by `npm run docs:errors`; a test fails when this file is out of date.',
    'Each inferq error has a stable code; the S3 API reports it as the XML `<Code>` below, the SageMaker API as `X-Amzn-ErrorType`.',
    '',
    '| code | HTTP | retryable | S3 `<Code>` | SageMaker `X-Amzn-ErrorType` | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
