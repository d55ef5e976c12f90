/**
 * The SNS target: publishes the message as the SNS `Message` of the topic (SageMaker's own
 * notification path), so SNS → SQS / Lambda consumers of SageMaker work unchanged. The SDK's own
 * retries are off: the outbox drain retries with its backoff.
 */
import { PublishCommand, SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import type { Delivery, Notifier } from '../port.js';

/** Settings of {@link snsNotifier}. */
export interface SnsOptions {
  readonly topicArn: string;
  /** Undefined for AWS. */
  readonly endpoint?: string;
  readonly region: string;
  /** Undefined: the AWS default credential chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly timeoutMs?: number;
}

/** A Notifier publishing to `options.topicArn`. */
export function snsNotifier(options: SnsOptions): Notifier {
  const config: SNSClientConfig = {
    region: options.region,
    maxAttempts: 1,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: { accessKeyId: options.credentials.accessKeyId, secretAccessKey: options.credentials.secretAccessKey } } : {}),
  };
  const client = new SNSClient(config);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async deliver({ body, signal }: Delivery): Promise<void> {
      const abortSignal = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
      try {
        await client.send(new PublishCommand({ TopicArn: options.topicArn, Message: body }), { abortSignal });
      } catch (err) {
        const name = err instanceof Error ? err.name : 'Error';
        const detail = err instanceof Error ? err.message : String(err);
        throw new Error(`SNS Publish to ${options.topicArn} failed: ${name}: ${detail}`, { cause: err });
      }
    },
    close(): void {
      client.destroy();
    },
  };
}
