"""What an applicant does: the eligibility interview, the draft application, their account."""
