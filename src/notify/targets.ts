/** Builds the Notifier of each configured topic. */
import type { TopicConfig } from '../config/index.js';
import type { Notifier } from './port.js';
import { snsNotifier } from './sns/index.js';
import { webhookNotifier } from './webhook/index.js';

/** One Notifier per entry of `topics:`, by name. */
export function notifiersFor(topics: Readonly<Record<string, TopicConfig>>): Map<string, Notifier> {
  const targets = new Map<string, Notifier>();
  for (const topic of Object.values(topics)) {
    const t = topic.target;
    targets.set(topic.name, t.kind === 'webhook'
      ? webhookNotifier({ url: t.url, secret: t.secret, timeoutMs: t.timeoutMs })
      : snsNotifier({ topicArn: t.topicArn, region: t.region, ...(t.endpoint !== undefined ? { endpoint: t.endpoint } : {}), ...(t.credentials !== undefined ? { credentials: t.credentials } : {}) }));
  }
  return targets;
}
