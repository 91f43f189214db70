import { Button, Text, Title1 } from '@fluentui/react-components';

/** Where sign-out ends: no session needed. */
export function SignedOut() {
  return (
    <main>
      <Title1 as="h1">You are signed out</Title1>
      <p>
        <Text>Your portal session has ended.</Text>
      </p>
      <Button as="a" href="/portal/auth/login" appearance="primary">
        Sign in
      </Button>
    </main>
  );
}
