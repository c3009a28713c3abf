"""The one entry point the Azure Functions Python v2 model loads: registers the blueprints.

Importing this module must stay cheap (a cold start pays for it): the blueprints import only
`azure.functions`, and load the engine in `shared/` inside their handlers.
"""

import azure.functions as func

from functions import admin, commands, group_reconcile, nightly, school_sync

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (nightly, school_sync, group_reconcile, commands, admin):
    app.register_functions(blueprint.bp)
