"""CDK constructs for Helpdesk: one stack (infra.stack.HelpdeskStack) built from
data, messaging, mail, workers, api, web and monitoring constructs. `python app.py` synthesizes."""
