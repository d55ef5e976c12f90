/**
 * The tiny STS front: `GetCallerIdentity` (awsQuery, XML), so tools that check their identity
 * before anything else work against inferq. The caller is the access key that signed the request:
 * `arn:aws:iam::<account>:user/<access key id>` (or `…:root` for a key named `root`). Any other
 * STS action is UnknownOperation, rendered by the HTTP edge in the query protocol.
 */
import { InferqError } from '../errors/index.js';

/** A rendered STS answer. */
export interface StsAnswer {
  readonly contentType: string;
  readonly body: string;
}

function xmlText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** The IAM ARN inferq reports for an access key. */
export function callerArn(account: string, accessKeyId: string): string {
  return accessKeyId === 'root' ? `arn:aws:iam::${account}:root` : `arn:aws:iam::${account}:user/${accessKeyId}`;
}

/**
 * Answers an STS call whose parameters are `params` (the form body, or the query string).
 * @throws InferqError UnknownOperation for any action but GetCallerIdentity.
 */
export function answerSts(params: URLSearchParams, accessKeyId: string, account: string, requestId: string): StsAnswer {
  const action = params.get('Action');
  if (action !== 'GetCallerIdentity') {
    const shown = (action ?? '(no Action)').replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
    throw new InferqError('UnknownOperation', `inferq does not serve the sts operation ${shown}; of STS it serves only GetCallerIdentity.`);
  }
  const body = '<?xml version="1.0" encoding="UTF-8"?>\n'
    + '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    + `<Arn>${xmlText(callerArn(account, accessKeyId))}</Arn><UserId>${xmlText(accessKeyId)}</UserId><Account>${account}</Account>`
    + `</GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
  return { contentType: 'text/xml', body };
}
