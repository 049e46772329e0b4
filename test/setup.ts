import 'aws-sdk-client-mock-vitest/extend';
import '../infra/node20-compat.js';
process.env.POWERTOOLS_DEV = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.AWS_REGION ??= 'eu-west-1';
import { recordSdkCalls } from './support/sdk-recorder.js';
recordSdkCalls();
