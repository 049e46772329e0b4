import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { type ClientOptions, http, memo } from './kit.js';

/** One EventBridge client per region per container (alert events for the pager route). */
export const eventBridgeClient = (region: string, o?: ClientOptions): EventBridgeClient =>
  memo('events', region, o, () => new EventBridgeClient({ region, ...http(o) }));
