import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ClientOptions, http, memo } from './clients/kit.js';

/** The state table's document client (plain JS values in and out) per region per container. */
export const stateTableClient = (region: string, o?: ClientOptions): DynamoDBDocumentClient =>
  memo('dynamodb', region, o, () => DynamoDBDocumentClient.from(new DynamoDBClient({ region, ...http(o) })));
