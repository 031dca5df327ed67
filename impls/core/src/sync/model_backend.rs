compile_error!("the loom and shuttle backends of the sync facade are not written yet");
