"""Stories, spikes and the rumour register."""
