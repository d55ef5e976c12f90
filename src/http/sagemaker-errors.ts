/** Renders an {@link InferqError} as the SageMaker restJson1 error that the AWS SDKs parse. */
import type { ServerResponse } from 'node:http';
import type { InferqError } from '../errors/index.js';

/** Writes `X-Amzn-ErrorType` + `{"Message": …}` (never an empty body, even on 5xx). */
export function sendSageMakerError(res: ServerResponse, err: InferqError): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  const body = Buffer.from(JSON.stringify(Object.assign({}, err.details, { Message: err.message })), 'utf8');
  res.writeHead(err.httpStatus, { 'Content-Type': 'application/json', 'X-Amzn-ErrorType': err.spec.sagemaker, 'Content-Length': body.length });
  res.end(body);
}
