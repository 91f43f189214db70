/** Ids of notable objects in data/demo-tenant.json (see docs/demo-tenant.md). */
export const DEMO = {
  admin: 'f644c791-1b7c-4ab5-bcda-1fd65cc7538c', // Patti Fernandez, CEO
  lee: '7c32e15c-d4d0-49aa-9eb3-0793e032aa70', // staff in Finance Team, manager Diego
  diego: '0b286f07-2b2a-43cd-a0d8-2051f4ab3be7', // Finance manager, owner and member of Finance Team
  grady: 'adc3d67a-686c-4e71-8e88-47c1700e8674', // auditor
  henrietta: 'ccf13fa8-405e-47a3-90b6-4dada6968d38', // auditor
  lidia: '342f1eed-0b19-49da-a584-f75c74f0c377', // head of audit
  financeTeam: '56b642ff-312b-4458-9263-d915740b44fe',
} as const;

/** Base path of the Graph access reviews API. */
export const REVIEWS = '/v1.0/identityGovernance/accessReviews';
