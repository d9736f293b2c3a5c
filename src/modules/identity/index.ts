export { Authenticated } from './authenticated.decorator.js';
export type { AuthenticatedUser } from './authenticated-user.js';
export { CurrentUser } from './current-user.decorator.js';
export { IdentityModule } from './identity.module.js';
export { SandboxLoginModule } from './sandbox-login.module.js';
export { UserAuthGuard } from './user-auth.guard.js';
export { UserTokenVerifier } from './user-token.verifier.js';
