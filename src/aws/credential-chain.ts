/**
 * The AWS SDK's default credential chain (environment, shared config and
 * profiles, SSO, web identity, container and instance roles), built as a
 * bundle of its own: only an action with no keys loads it
 * (src/aws/default-credentials.ts stands in for it in the other bundles).
 */
export { defaultProvider } from '@aws-sdk/credential-provider-node';
