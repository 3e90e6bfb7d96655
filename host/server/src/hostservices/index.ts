export { ServerHostServices } from "./host-services.js";
export { agentStoreService } from "./agent-store.js";
export { identityProviderService, type IdentityProviderDeps } from "./identity-provider.js";
