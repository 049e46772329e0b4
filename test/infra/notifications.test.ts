import { readFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import Ajv from 'ajv';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackId, StewardStack } from '../../infra/stack.js';
import { eventBridgePager } from '../../shared/aws/pager-events.js';
import { type StewardConfig, validateConfig } from '../../shared/config/schema.js';
import { CHAT_AND_PAGER } from '../iam/full-config.js';
import { exampleInput, loadExample } from '../support/examples.js';
import { unbundledContext, list, statements } from './iam.js';

const ROUTING_KEY_SECRET = CHAT_AND_PAGER.pagerDuty.routingKeySecret;

const configWithRoutes = (): StewardConfig => {
  const input = exampleInput('prod');
  const r = validateConfig({
    ...input,
    notifications: { ...input.notifications, ...CHAT_AND_PAGER },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
};

const synth = (config: StewardConfig): Template => {
  // No bundling: these assertions are about the template.
  const app = new App({ context: unbundledContext });
  return Template.fromStack(new StewardStack(app, stackId(config.stage), { config }));
};

let t: Template;
let plain: Template;

beforeAll(() => {
  t = synth(configWithRoutes());
  plain = synth(loadExample('prod'));
});

const one = (type: string) => {
  const all = Object.values(t.findResources(type));
  expect(all, type).toHaveLength(1);
  return all[0]!.Properties as Record<string, unknown>;
};

/** EventBridge pattern matching for what the rule uses: exact values, nested objects. */
const matches = (pattern: Record<string, unknown>, event: Record<string, unknown>): boolean =>
  Object.entries(pattern).every(([k, p]) =>
    Array.isArray(p)
      ? p.includes(event[k])
      : typeof event[k] === 'object' && event[k] !== null
        ? matches(p as Record<string, unknown>, event[k] as Record<string, unknown>)
        : false,
  );

describe('chat channels (Amazon Q Developer in chat applications)', () => {
  it('subscribes the Slack and Teams channels to the critical and warning topics', () => {
    const topics = Match.arrayWith([
      { Ref: Match.stringLikeRegexp('NotificationsCritical') },
      { Ref: Match.stringLikeRegexp('NotificationsWarning') },
    ]);
    t.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      ConfigurationName: 'steward-prod',
      SlackWorkspaceId: 'T07ABCDEF12',
      SlackChannelId: 'C07ABCDEF12',
      SnsTopicArns: topics,
      LoggingLevel: 'ERROR',
    });
    t.hasResourceProperties('AWS::Chatbot::MicrosoftTeamsChannelConfiguration', {
      ConfigurationName: 'steward-prod-teams',
      TeamsChannelId: '19%3A0a1b2c3d4e5f%40thread.tacv2',
      SnsTopicArns: topics,
    });
    const slack = one('AWS::Chatbot::SlackChannelConfiguration');
    expect(JSON.stringify(slack.SnsTopicArns)).not.toContain('NotificationsInfo');
  });

  it('lets nobody run AWS commands from the channel: no permissions, a guardrail that denies everything', () => {
    const slack = one('AWS::Chatbot::SlackChannelConfiguration');
    const teams = one('AWS::Chatbot::MicrosoftTeamsChannelConfiguration');
    expect(slack.GuardrailPolicies).toEqual(teams.GuardrailPolicies);
    const guardrail = statements(t).filter((s) => s.policy.includes('ChatGuardrail'));
    expect(guardrail).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: '*', Resource: '*', Sid: 'NotificationsOnly' }),
    ]);
    const chatRole = statements(t).filter((s) => s.policy.startsWith('NotificationsChatRole'));
    expect(chatRole).toEqual([]);
  });
});

describe('PagerDuty route (EventBridge API destination)', () => {
  it('keeps the routing key in the connection only: the template names the secret, never a key', () => {
    const connection = one('AWS::Events::Connection');
    const resolve = `{{resolve:secretsmanager:${ROUTING_KEY_SECRET}:SecretString:::}}`;
    expect(connection).toMatchObject({
      Name: 'steward-prod-pagerduty',
      AuthorizationType: 'API_KEY',
      AuthParameters: {
        ApiKeyAuthParameters: { ApiKeyName: 'X-Routing-Key', ApiKeyValue: resolve },
        InvocationHttpParameters: {
          BodyParameters: [{ Key: 'routing_key', Value: resolve, IsValueSecret: true }],
        },
      },
    });
    // A routing key is 32 hex digits (asset hashes are 64, and are not keys).
    expect(JSON.stringify(t.toJSON())).not.toMatch(/(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])/);
  });

  it("posts to the Events API v2 at PagerDuty's rate, retries for an hour, parks the rest and alarms", () => {
    expect(one('AWS::Events::ApiDestination')).toMatchObject({
      InvocationEndpoint: 'https://events.pagerduty.com/v2/enqueue',
      HttpMethod: 'POST',
      InvocationRateLimitPerSecond: 2,
    });
    const rule = Object.values(t.findResources('AWS::Events::Rule')).find(
      (r) => (r.Properties.EventPattern as { source?: string[] })?.source?.[0] === 'steward',
    )!.Properties as { Targets: Record<string, unknown>[] };
    expect(rule.Targets).toHaveLength(1);
    expect(rule.Targets[0]).toMatchObject({
      InputPath: '$.detail.pagerduty',
      RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 20 },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/FailedEvents/), 'Arn'] } },
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'steward-prod-pagerduty-undelivered',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('NotificationsWarning') }],
    });
  });

  it('carries what steward puts on the bus to PagerDuty as a valid Events API v2 body', async () => {
    // Prepare: the event the notifier puts (recorded from the adapter), as EventBridge delivers it.
    const events = mockClient(EventBridgeClient);
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    await eventBridgePager(new EventBridgeClient({ region: 'eu-west-1' }), 'prod', ['critical']).send({
      severity: 'critical',
      capability: 'drill',
      subject: 'Drill FAILED: orders-db',
      lines: [],
      alerts: [{ key: 'orders-db:drill', action: 'trigger', severity: 'critical', summary: 'failed' }],
    });
    const entry = events.commandCalls(PutEventsCommand)[0]!.args[0].input
      .Entries![0]! as PutEventsRequestEntry;
    events.restore();
    const event = {
      source: entry.Source,
      'detail-type': entry.DetailType,
      detail: JSON.parse(entry.Detail!),
    };
    const rule = Object.values(t.findResources('AWS::Events::Rule')).find(
      (r) => (r.Properties.EventPattern as { source?: string[] })?.source?.[0] === 'steward',
    )!.Properties as { EventPattern: Record<string, unknown>; Targets: { InputPath: string }[] };
    const connection = one('AWS::Events::Connection') as {
      AuthParameters: { InvocationHttpParameters: { BodyParameters: { Key: string }[] } };
    };
    // Act: the rule matches, the target's input path picks the body, the connection adds its body parameters.
    expect(matches(rule.EventPattern, event)).toBe(true);
    expect(matches(rule.EventPattern, { ...event, detail: { ...event.detail, stage: 'dev' } })).toBe(false);
    const path = rule.Targets[0]!.InputPath.replace(/^\$\./, '').split('.');
    const body = path.reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, event);
    const sent = {
      ...body,
      ...Object.fromEntries(
        connection.AuthParameters.InvocationHttpParameters.BodyParameters.map((p) => [
          p.Key,
          '0123456789abcdef0123456789abcdef',
        ]),
      ),
    };
    // Assert
    const ajv = new Ajv({ strict: false });
    const schema = JSON.parse(
      readFileSync(
        new URL('../shared/notify/schemas/pagerduty-events-v2.schema.json', import.meta.url),
        'utf8',
      ),
    ) as object;
    const validate = ajv.compile(schema);
    expect(validate(sent), JSON.stringify(validate.errors)).toBe(true);
    expect(sent).toMatchObject({ event_action: 'trigger', dedup_key: 'steward/prod/orders-db:drill' });
  });

  it('lets every function put only pager events on the default bus', () => {
    const put = statements(t).filter((s) => list(s.Action).includes('events:PutEvents'));
    expect(put.length).toBeGreaterThan(5);
    for (const s of put) {
      expect(s.Sid).toBe('SendPagerEvents');
      expect(s.Condition).toEqual({
        'ForAllValues:StringEquals': {
          'events:source': ['steward'],
          'events:detail-type': ['Steward Pager Event'],
        },
        Null: { 'events:source': 'false', 'events:detail-type': 'false' },
      });
      expect(JSON.stringify(s.Resource)).toContain(':event-bus/default');
    }
  });

  it('is absent, with its permission, from a stage without PagerDuty', () => {
    expect(Object.keys(plain.findResources('AWS::Events::Connection'))).toEqual([]);
    expect(Object.keys(plain.findResources('AWS::Chatbot::SlackChannelConfiguration'))).toEqual([]);
    expect(statements(plain).filter((s) => list(s.Action).includes('events:PutEvents'))).toEqual([]);
  });
});
