import { api } from '../api/client.ts';

/** The passkey ceremony against the server; the WebAuthn library loads only when it is used. */
export async function signInWithPasskey(): Promise<void> {
  const { startAuthentication } = await import('@simplewebauthn/browser');
  const options = await api.passkeyAuthenticationOptions();
  const response = await startAuthentication({ optionsJSON: options as Parameters<typeof startAuthentication>[0]['optionsJSON'] });
  await api.passkeyAuthenticationVerify(response);
}
