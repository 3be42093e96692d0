"""DLPack exchange (zero-copy) with numpy, torch and anything speaking the protocol."""
