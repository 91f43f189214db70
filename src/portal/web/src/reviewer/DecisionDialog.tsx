import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Spinner,
  Textarea,
} from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import type { ReviewerDecision } from './api';

const VERB: Record<ReviewerDecision, string> = { Approve: 'Approve', Deny: 'Deny', DontKnow: "Don't know" };

/** What the dialog decides on: how many items, or one reviewee by name. */
export interface DecisionTarget {
  decision: ReviewerDecision;
  /** "50 items", "Lee Gu", "all 10,000 matching items". */
  what: string;
  /** The reason the item has now (when changing one decision). */
  current?: string | null;
}

/**
 * Asks for the reason of a decision and records it: the reason is always offered, and required to
 * approve when the review says so (justificationRequiredOnApproval).
 */
export function DecisionDialog({
  target,
  justificationRequiredOnApproval,
  busy,
  onSubmit,
  onClose,
}: {
  target: DecisionTarget | null;
  justificationRequiredOnApproval: boolean;
  busy: boolean;
  onSubmit: (justification: string) => void;
  onClose: () => void;
}) {
  const [reason, setReason] = useState('');
  const [tried, setTried] = useState(false);
  // The last target stays shown while the dialog closes: Fluent closes it (and gives the page back to
  // assistive technology) only when it is told `open={false}`, not when it disappears while open.
  const [shown, setShown] = useState(target);
  useEffect(() => {
    if (!target) return;
    setShown(target);
    setReason(target.current ?? '');
    setTried(false);
  }, [target]);
  if (!shown) return null;
  const required = shown.decision === 'Approve' && justificationRequiredOnApproval;
  const missing = required && reason.trim() === '';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (!missing) onSubmit(reason.trim());
  };
  return (
    <Dialog
      open={target !== null}
      modalType="modal"
      onOpenChange={(_, data) => !data.open && !busy && onClose()}
    >
      <DialogSurface>
        <form onSubmit={submit} noValidate>
          <DialogBody>
            <DialogTitle>
              {VERB[shown.decision]}: {shown.what}
            </DialogTitle>
            <DialogContent>
              <Field
                label="Reason"
                required={required}
                hint={
                  required
                    ? 'This review asks for a reason to approve.'
                    : 'Optional: the administrators and later reviewers see it.'
                }
                validationState={tried && missing ? 'error' : 'none'}
                validationMessage={tried && missing ? 'Enter a reason to approve.' : undefined}
              >
                <Textarea
                  value={reason}
                  onChange={(_, data) => setReason(data.value)}
                  maxLength={4000}
                  resize="vertical"
                  rows={3}
                />
              </Field>
            </DialogContent>
            <DialogActions>
              <Button appearance="secondary" onClick={onClose} disabled={busy}>
                Cancel
              </Button>
              <Button
                appearance="primary"
                type="submit"
                disabled={busy}
                icon={busy ? <Spinner size="tiny" /> : undefined}
              >
                {VERB[shown.decision]}
              </Button>
            </DialogActions>
          </DialogBody>
        </form>
      </DialogSurface>
    </Dialog>
  );
}
