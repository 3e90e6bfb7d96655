import { type AsyncService, type ServiceRegistration, implement } from "@signet/proto";
import { BundlePublisherService } from "@signet/proto/spire/plugin/server/bundlepublisher/v1/bundlepublisher";
import { CredentialComposerService } from "@signet/proto/spire/plugin/server/credentialcomposer/v1/credentialcomposer";
import { NotifierService } from "@signet/proto/spire/plugin/server/notifier/v1/notifier";

/** BundlePublisher (server): pushes the trust bundle somewhere on every change and every 30 s. */
export const bundlePublisher = (impl: Partial<AsyncService<typeof BundlePublisherService>>): ServiceRegistration =>
  implement(BundlePublisherService, impl);

/** CredentialComposer (server): adjusts the attributes of CA and SVID certificates and JWT claims. */
export const credentialComposer = (impl: Partial<AsyncService<typeof CredentialComposerService>>): ServiceRegistration =>
  implement(CredentialComposerService, impl);

/** Notifier (server, deprecated upstream in favour of BundlePublisher). */
export const notifier = (impl: Partial<AsyncService<typeof NotifierService>>): ServiceRegistration =>
  implement(NotifierService, impl);
