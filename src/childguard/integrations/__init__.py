"""childguard inside the frameworks teams already build with. One module per framework, each needing only
its own optional extra (`pip install childguard[langchain]`, `[litellm]`, `[openai-agents]`); importing
this package imports none of them."""
