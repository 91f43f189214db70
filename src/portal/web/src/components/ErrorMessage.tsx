import { MessageBar, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import { ApiError } from '../api/client';

/** Words for the API's error codes that reviewers meet; the API's own message follows. */
const TITLES: Record<string, string> = {
  'review.stage_not_in_progress': 'This stage is closed',
  'review.not_a_reviewer': 'This is not your item to review',
  'review.own_access': 'You cannot review your own access',
  'review.justification_required': 'A reason is required',
  'review.decision_not_found': 'This item is not in the review',
  'stage.not_found': 'There is no such stage',
  'request.rate_limited': 'Too many requests: try again in a minute',
  'auth.admin_required': 'Administrators only',
  'request.invalid': 'Check the form',
};

/** Shows an API error (its title from the code, its message) or any other error, as an alert. */
export function ErrorMessage({ error }: { error: unknown }) {
  const code = error instanceof ApiError ? error.code : undefined;
  const title = (code && TITLES[code]) ?? 'Something went wrong';
  const message = error instanceof Error ? error.message : String(error);
  return (
    <MessageBar intent="error" role="alert">
      <MessageBarBody>
        <MessageBarTitle>{title}</MessageBarTitle>
        {message}
        {code ? ` (${code})` : ''}
      </MessageBarBody>
    </MessageBar>
  );
}
