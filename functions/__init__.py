"""The Azure Functions triggers: thin blueprints that decode a trigger, call `shared/`, and
encode the answer. `function_app.py` registers them."""
